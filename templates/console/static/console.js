// The officers' console: helpers every page may use. No inline scripts (CSP).
(function () {
  "use strict";

  /** The session's CSRF token, from <meta name="csrf-token"> in the layout. */
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  /**
   * fetch() for console actions: sends the CSRF token and asks for JSON, so a lost
   * session answers 401 (not the login page); then the browser goes to the login.
   */
  async function request(url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    const headers = new Headers(opts.headers || {});
    headers.set("Accept", "application/json");
    headers.set("X-Requested-With", "XMLHttpRequest");
    const method = (opts.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") headers.set("X-CSRF-Token", csrfToken());
    opts.headers = headers;
    const response = await fetch(url, opts);
    if (response.status === 401) {
      const next = window.location.pathname + window.location.search;
      window.location.assign("/console/login?next=" + encodeURIComponent(next));
    }
    return response;
  }

  function postJson(url, data) {
    return request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data || {}),
    });
  }

  // <form data-confirm="Yakin?"> asks before it is sent.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  window.omnihubConsole = { csrfToken: csrfToken, request: request, postJson: postJson };
})();
