// One announcement's progress, kept fresh while the page is open: every few seconds
// the counts are fetched as JSON and written with textContent (no markup from data).
(function () {
  "use strict";

  const progress = document.getElementById("progress");
  const status = document.getElementById("announcement-status");
  const live = document.getElementById("live-progress");
  if (!progress) return;

  const EVERY_MS = 3000;
  const FINISHED = ["sent", "cancelled"];

  async function refresh() {
    let response;
    try {
      response = await fetch(progress.dataset.url, {
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
      });
    } catch (error) {
      setTimeout(refresh, EVERY_MS);
      return;
    }
    if (response.status === 401) {
      if (live) live.textContent = "sesi berakhir";
      return;
    }
    if (response.ok) {
      const data = await response.json();
      for (const cell of progress.querySelectorAll("[data-count]")) {
        const value = data.progress[cell.dataset.count];
        if (value !== undefined) cell.textContent = String(value);
      }
      if (status) {
        status.textContent = data.status_label;
        status.className = "status astatus-" + data.status;
      }
      progress.dataset.status = data.status;
      if (FINISHED.includes(data.status)) {
        if (live) live.textContent = "selesai";
        // Nothing is left to pause or cancel.
        const controls = document.getElementById("controls");
        if (controls) controls.hidden = true;
        return;
      }
    }
    setTimeout(refresh, EVERY_MS);
  }

  setTimeout(refresh, 500);
})();
