// The inbox and conversation pages, kept fresh from the console's event stream.
// News only says "something changed"; the page refetches what it shows as JSON and
// redraws it with textContent, never innerHTML: a citizen's text stays text.
(function () {
  "use strict";

  const live = document.getElementById("live");
  const inboxRows = document.getElementById("inbox-rows");
  const history = document.getElementById("history");
  if (!live || (!inboxRows && !history)) return;

  const LIVE_LABELS = {
    connecting: "Menghubungkan…",
    open: "Langsung",
    error: "Terputus, menyambung ulang…",
    closed: "Terputus",
    expired: "Sesi berakhir",
  };
  const RECONNECT_MS = 5000;
  const QUEUED_POLL_MS = 2000;

  function setLive(state) {
    live.dataset.state = state;
    live.textContent = LIVE_LABELS[state] || state;
  }

  // The session ended (logout elsewhere, expiry). A background refresh does not yank
  // the officer to the login form (they may be reading or navigating themselves); the
  // badge says so and links there, and the stream stops.
  let expired = false;
  let source = null; // the open EventSource

  function sessionEnded() {
    expired = true;
    if (source) source.close();
    setLive("expired");
    const next = window.location.pathname + window.location.search;
    const link = document.createElement("a");
    link.href = "/console/login?next=" + encodeURIComponent(next);
    link.textContent = "Sesi berakhir, masuk lagi";
    live.replaceChildren(link);
  }

  /** GET ``url`` as JSON; null when it failed (a 401 ends the live updates). */
  async function getJson(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
    });
    if (response.status === 401) {
      sessionEnded();
      return null;
    }
    return response.ok ? response.json() : null;
  }

  /** One load at a time; news that arrives meanwhile makes exactly one more. */
  function coalesced(load) {
    let running = false;
    let again = false;
    return async function run() {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          await load();
        } while (again);
      } catch (error) {
        // Network trouble: the next event or reconnect tries again.
      } finally {
        running = false;
      }
    };
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function webUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : "";
  }

  // --- the inbox list -------------------------------------------------------------------

  function inboxRow(c) {
    const row = element("tr");
    row.dataset.conversationId = String(c.id);
    row.dataset.status = c.status;
    const name = element("td", "name");
    const link = element("a", "", c.name);
    link.href = "/console/conversations/" + encodeURIComponent(String(c.id));
    name.appendChild(link);
    if (c.confidential) {
      name.appendChild(document.createTextNode(" "));
      name.appendChild(element("span", "tag secret", "rahasia"));
    }
    if (c.anonymous) {
      name.appendChild(document.createTextNode(" "));
      name.appendChild(element("span", "tag", "anonim"));
    }
    row.appendChild(name);
    row.appendChild(element("td", "", c.channel_label));
    row.appendChild(element("td", "address", c.address));
    row.appendChild(element("td", "", c.reason_label));
    row.appendChild(element("td", "", c.waiting_since));
    row.appendChild(element("td", "last-text", c.last_text));
    const status = element("td");
    status.appendChild(element("span", "badge status-" + c.status, c.status_label));
    row.appendChild(status);
    row.appendChild(element("td", "", c.claimed_by_name || "—"));
    return row;
  }

  async function loadInbox() {
    const data = await getJson("/console/api/inbox");
    if (!data) return;
    const rows = data.conversations || [];
    inboxRows.replaceChildren.apply(inboxRows, rows.map(inboxRow));
    const empty = document.getElementById("inbox-empty");
    if (empty) empty.hidden = rows.length > 0;
  }

  // --- one conversation -----------------------------------------------------------------

  function attachmentItem(a) {
    const item = element("li");
    const url = webUrl(a.url);
    if (!url) {
      item.appendChild(element("span", "file", a.label));
      return item;
    }
    const link = element("a");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    if (a.is_image) {
      const image = element("img");
      image.src = url;
      image.alt = a.label;
      link.appendChild(image);
    } else {
      link.textContent = a.label;
    }
    item.appendChild(link);
    return item;
  }

  function messageItem(m) {
    const item = element("li", "msg " + m.direction);
    item.dataset.messageId = String(m.id);
    const meta = element("div", "meta");
    meta.appendChild(element("span", "author", m.author_label));
    meta.appendChild(element("span", "channel", m.channel_label));
    meta.appendChild(element("time", "", m.time));
    if (m.delivery_status) {
      const label = m.delivery_label + (m.delivery_error ? ": " + m.delivery_error : "");
      const delivery = element("span", "delivery " + m.delivery_status, label);
      delivery.dataset.status = m.delivery_status;
      meta.appendChild(delivery);
    }
    item.appendChild(meta);
    const text = element("div", "text", m.text);
    if (!m.text && !(m.attachments && m.attachments.length)) {
      // Emptied by the retention purge; drawn as conversation.html draws it.
      text.appendChild(element("span", "muted", "[dihapus sesuai masa simpan]"));
    }
    item.appendChild(text);
    if (m.attachments && m.attachments.length) {
      const list = element("ul", "attachments");
      m.attachments.forEach(function (a) {
        list.appendChild(attachmentItem(a));
      });
      item.appendChild(list);
    }
    return item;
  }

  let pollTimer = null;

  async function loadConversation() {
    const id = history.dataset.conversationId;
    const data = await getJson(
      "/console/api/conversations/" + encodeURIComponent(id) + "/messages"
    );
    if (!data) return;
    const messages = data.messages || [];
    const atBottom = history.scrollHeight - history.scrollTop - history.clientHeight < 40;
    history.replaceChildren.apply(history, messages.map(messageItem));
    if (atBottom) history.scrollTop = history.scrollHeight;
    const empty = document.getElementById("history-empty");
    if (empty) empty.hidden = messages.length > 0;
    const changed = document.getElementById("status-changed");
    if (changed && data.conversation && data.conversation.status !== history.dataset.status) {
      changed.hidden = false;
    }
    // "sent" is written by the dispatcher, which sends no news: look again shortly.
    window.clearTimeout(pollTimer);
    if (messages.some(function (m) { return m.delivery_status === "queued"; })) {
      pollTimer = window.setTimeout(refresh, QUEUED_POLL_MS);
    }
  }

  const refresh = coalesced(inboxRows ? loadInbox : loadConversation);

  function concerns(news) {
    if (inboxRows) {
      return news.type === "handoff" || news.type === "message" || news.type === "conversation";
    }
    if (news.type === "delivery") {
      return news.conversation_id === undefined ||
        String(news.conversation_id) === history.dataset.conversationId;
    }
    return (news.type === "message" || news.type === "conversation") &&
      String(news.conversation_id) === history.dataset.conversationId;
  }

  // --- the event stream -----------------------------------------------------------------

  // A page being left closes its stream; that is no reason to reconnect.
  let leaving = false;
  window.addEventListener("beforeunload", function () {
    leaving = true;
  });
  window.addEventListener("pagehide", function () {
    leaving = true;
    if (source) source.close();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !expired) {
      leaving = false;
      connect(); // back from the browser's page cache
    }
  });

  async function retry() {
    if (leaving || expired) return;
    await refresh(); // a lost session answers 401 here and ends the live updates
    if (!leaving && !expired) connect();
  }

  function connect() {
    setLive("connecting");
    const current = new EventSource("/console/api/events");
    source = current;
    current.onopen = function () {
      setLive("open");
      refresh(); // whatever happened while the stream was down
    };
    current.onmessage = function (event) {
      let news;
      try {
        news = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (news && concerns(news)) refresh();
    };
    current.onerror = function () {
      if (leaving || expired) return;
      if (current.readyState !== EventSource.CLOSED) {
        setLive("error"); // the browser reconnects by itself
        return;
      }
      // Refused (a lost session, a restarting server): try again a little later.
      setLive("closed");
      window.setTimeout(retry, RECONNECT_MS);
    };
  }

  if (history) history.scrollTop = history.scrollHeight;
  connect();
})();
