/*
 * omnihub web chat client. Plain ES2020, no dependencies.
 *
 * Protocol (JSON text frames over one WebSocket per page):
 *   client -> server
 *     {"type":"message","id":"<uuid>","text":"..."}
 *     {"type":"choice","id":"<uuid>","payload":"...","text":"<choice title>"}
 *   server -> client
 *     {"type":"ack","id":"<client id>"}
 *     {"type":"message","id":"<server id>","text":"...","choices":[{"title":"...","payload":"..."}],
 *      "attachments":[{"url":"...","content_type":"image/png","filename":"...","caption":"..."}],
 *      "author":"bot"|"officer","reply_to":"<client id>"|null}
 *     {"type":"error","code":"...","message":"..."}
 *
 * Client ids are reused on every resend; the server dedupes on them.
 * Everything user-visible is inserted with textContent / text nodes, never innerHTML.
 * An attachment (a booking's QR code) is drawn as an <img> for image/* and a link
 * otherwise, only from an http(s) URL or a same-origin path: never javascript: or data:.
 */
(function () {
  'use strict';

  const root = document.getElementById('app');
  const listEl = document.getElementById('messages');
  const choicesEl = document.getElementById('choices');
  const form = document.getElementById('composer');
  const input = document.getElementById('composer-input');
  const sendBtn = document.getElementById('composer-send');
  const statusEl = document.getElementById('status');
  if (!root || !listEl || !choicesEl || !form || !input || !sendBtn || !statusEl) return;

  // ---------------------------------------------------------------- config

  // The visitor is an HttpOnly cookie the hub issues: this script never sees it.
  const LEGACY_SESSION_KEY = 'omnihub.session'; // browser-chosen id of old versions: dropped
  const KEY = {
    history: 'omnihub.history',
    outbox: 'omnihub.outbox',
    seen: 'omnihub.seen',
  };
  const MAX_HISTORY = 100;      // bubbles kept for redraw after reload
  const MAX_SEEN = 500;         // server message ids remembered for dedupe
  const MAX_LEN = parseInt(root.dataset.maxLength, 10) || 2000;
  const ACK_TIMEOUT = 10000;    // unacked after this long -> connection presumed stale
  const TYPING_TIMEOUT = 15000;
  const CONNECT_TIMEOUT = 10000;
  const STABLE_AFTER = 30000;   // connection open this long -> reset backoff
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;

  const ds = root.dataset;
  const T = {
    connecting: ds.textConnecting || 'Menghubungkan…',
    open: ds.textOpen || 'Terhubung',
    closed: ds.textClosed || 'Terputus, mencoba lagi…',
    officer: ds.textOfficer || 'Petugas',
    typing: ds.textTyping || 'Sedang mengetik…',
    pending: ds.textPending || 'Menunggu terkirim',
    delivered: ds.textDelivered || 'Terkirim',
    failed: ds.textFailed || 'Gagal terkirim',
    tooLong: ds.textTooLong || 'Pesan terlalu panjang (maksimal 2000 karakter).',
    error: ds.textError || 'Terjadi kesalahan. Silakan coba lagi.',
    rateLimited: ds.textRateLimited || 'Terlalu banyak pesan. Silakan tunggu sebentar.',
  };
  const MARK = { pending: '◌', delivered: '✓', failed: '!' };

  let wsPath = ds.wsPath || '/chat/ws';
  if (wsPath.charAt(0) !== '/') wsPath = '/' + wsPath;

  // --------------------------------------------------------------- storage

  const memStore = new Map();
  const storage = (function () {
    try {
      const s = window.localStorage;
      const probe = 'omnihub.__probe';
      s.setItem(probe, '1');
      s.removeItem(probe);
      return s;
    } catch (_) {
      return null; // disabled / private mode: keep state in memory only
    }
  })();

  function load(key) {
    if (storage) {
      try {
        return storage.getItem(key);
      } catch (_) { /* fall through */ }
    }
    return memStore.has(key) ? memStore.get(key) : null;
  }

  function save(key, value) {
    memStore.set(key, value);
    if (!storage) return true;
    try {
      storage.setItem(key, value);
      return true;
    } catch (_) {
      return false; // quota exceeded
    }
  }

  function remove(key) {
    memStore.delete(key);
    if (storage) {
      try { storage.removeItem(key); } catch (_) { /* ignore */ }
    }
  }

  function loadJSON(key, fallback) {
    const raw = load(key);
    if (raw == null) return fallback;
    try {
      const v = JSON.parse(raw);
      return v == null ? fallback : v;
    } catch (_) {
      return fallback;
    }
  }

  // ------------------------------------------------------------------- ids

  function uuid() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (_) { /* insecure context: fall back */ }
    }
    const b = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') {
      c.getRandomValues(b);
    } else {
      for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    }
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' +
      h.slice(16, 20) + '-' + h.slice(20);
  }

  remove(LEGACY_SESSION_KEY);

  // ----------------------------------------------------------------- state

  const KINDS = ['citizen', 'bot', 'officer'];

  function normalizeChoices(raw) {
    if (!Array.isArray(raw)) return [];
    const out = [];
    for (const c of raw) {
      if (!c || typeof c !== 'object') continue;
      if (c.payload == null || (typeof c.payload === 'object')) continue;
      const payload = String(c.payload);
      const title = c.title == null || typeof c.title === 'object' ? payload : String(c.title);
      if (!title.trim()) continue;
      out.push({ title, payload });
    }
    return out;
  }

  /** An attachment's URL as an absolute http(s) href, or null: never javascript:, data:, blob:. */
  function safeUrl(raw) {
    if (typeof raw !== 'string') return null;
    const s = raw.trim();
    const absolute = /^https?:\/\//i.test(s);
    if (!absolute && !(s.charAt(0) === '/' && s.charAt(1) !== '/' && s.charAt(1) !== '\\')) {
      return null;
    }
    try {
      const u = new URL(s, location.href);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
      if (!absolute && u.origin !== location.origin) return null;
      return u.href;
    } catch (_) {
      return null;
    }
  }

  function asString(value) {
    return typeof value === 'string' ? value : '';
  }

  function normalizeAttachments(raw) {
    if (!Array.isArray(raw)) return [];
    const out = [];
    for (const a of raw) {
      if (!a || typeof a !== 'object') continue;
      const url = safeUrl(a.url);
      if (!url) continue;
      out.push({
        url,
        content_type: asString(a.content_type).toLowerCase(),
        filename: asString(a.filename),
        caption: asString(a.caption),
      });
    }
    return out.slice(0, 10);
  }

  function validEntry(e) {
    return e && typeof e === 'object' && typeof e.id === 'string' && e.id &&
      KINDS.includes(e.kind) && typeof e.text === 'string';
  }

  function validFrame(f) {
    return f && typeof f === 'object' && typeof f.id === 'string' && f.id &&
      typeof f.text === 'string' &&
      (f.type === 'message' || (f.type === 'choice' && typeof f.payload === 'string'));
  }

  /** Last MAX_HISTORY bubbles: {id, kind, text, ts, status?, payload?, choices?, attachments?} */
  let history = loadJSON(KEY.history, []);
  history = (Array.isArray(history) ? history : []).filter(validEntry).slice(-MAX_HISTORY);
  for (const e of history) {
    if (e.choices) e.choices = normalizeChoices(e.choices);
    if (e.attachments) e.attachments = normalizeAttachments(e.attachments);
  }

  /** Unacked client frames, oldest first. sentAt = when sent on the current socket (0 = not yet). */
  let outbox = loadJSON(KEY.outbox, []);
  outbox = (Array.isArray(outbox) ? outbox : []).filter(validFrame).map((frame) => ({ frame, sentAt: 0 }));

  let seenList = loadJSON(KEY.seen, []);
  seenList = (Array.isArray(seenList) ? seenList : []).filter((s) => typeof s === 'string').slice(-MAX_SEEN);
  const seen = new Set(seenList);

  function saveHistory() {
    let json = JSON.stringify(history);
    while (!save(KEY.history, json) && history.length > 10) {
      history = history.slice(Math.floor(history.length / 2)); // quota: drop the oldest half
      json = JSON.stringify(history);
    }
  }

  function saveOutbox() {
    save(KEY.outbox, JSON.stringify(outbox.map((item) => item.frame)));
  }

  function rememberServerId(id) {
    if (seen.has(id)) return;
    seen.add(id);
    seenList.push(id);
    while (seenList.length > MAX_SEEN) seen.delete(seenList.shift());
    save(KEY.seen, JSON.stringify(seenList));
  }

  // ------------------------------------------------------------- rendering

  const bubbles = new Map(); // id -> element

  const typingEl = document.createElement('div');
  typingEl.id = 'typing';
  typingEl.className = 'typing';
  typingEl.setAttribute('aria-hidden', 'true');
  typingEl.title = T.typing;
  for (let i = 0; i < 3; i++) typingEl.appendChild(document.createElement('span'));
  let typingTimer = null;

  const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function trimUrl(url) {
    for (;;) {
      const last = url.charAt(url.length - 1);
      if ('.,;:!?\'"*'.includes(last)) {
        url = url.slice(0, -1);
      } else if (last === ')' && url.split('(').length <= url.split(')').length - 1) {
        url = url.slice(0, -1); // unbalanced closing paren belongs to the prose
      } else if (last === ']' && !url.includes('[')) {
        url = url.slice(0, -1);
      } else {
        return url;
      }
    }
  }

  /** Append text to parent, turning plain http(s) URLs into safe anchors. */
  function appendLinkified(parent, text) {
    let pos = 0;
    for (const m of text.matchAll(URL_RE)) {
      const raw = trimUrl(m[0]);
      let href = null;
      try {
        const u = new URL(raw);
        if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
      } catch (_) { /* not a URL after all */ }
      if (!href) continue;
      if (m.index > pos) parent.appendChild(document.createTextNode(text.slice(pos, m.index)));
      const a = document.createElement('a');
      a.href = href;
      a.textContent = raw;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      parent.appendChild(a);
      pos = m.index + raw.length;
    }
    if (pos < text.length) parent.appendChild(document.createTextNode(text.slice(pos)));
  }

  function applyStatus(el, status) {
    el.dataset.status = status;
    const mark = el.querySelector('.msg-status');
    if (mark) {
      mark.textContent = MARK[status] || '';
      mark.title = T[status] || '';
      mark.setAttribute('aria-label', T[status] || '');
    }
  }

  /** An image for image/*, else a link; the URL was checked by normalizeAttachments. */
  function buildAttachment(a, bubbleText) {
    if (a.content_type.startsWith('image/')) {
      const figure = document.createElement('figure');
      figure.className = 'msg-figure';
      const img = document.createElement('img');
      img.className = 'msg-image';
      img.alt = a.caption || a.filename;
      img.decoding = 'async';
      img.referrerPolicy = 'no-referrer';
      img.addEventListener('load', () => {
        // Keep the newest message in view once the image has its height.
        const gap = listEl.scrollHeight - listEl.scrollTop - listEl.clientHeight;
        if (gap <= img.offsetHeight + 80) scrollToBottom();
      }, { once: true });
      img.src = a.url;
      figure.appendChild(img);
      if (a.caption && !bubbleText.includes(a.caption)) {
        const caption = document.createElement('figcaption');
        caption.className = 'msg-caption';
        caption.textContent = a.caption;
        figure.appendChild(caption);
      }
      return figure;
    }
    const link = document.createElement('a');
    link.className = 'msg-file';
    link.href = a.url;
    link.textContent = a.filename || a.caption || a.url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    return link;
  }

  function buildBubble(entry) {
    const el = document.createElement('div');
    el.className = 'msg msg-' + entry.kind;
    el.dataset.id = entry.id;

    if (entry.kind === 'officer') {
      const author = document.createElement('div');
      author.className = 'msg-author';
      author.textContent = T.officer;
      el.appendChild(author);
    }

    if (entry.text || entry.kind === 'citizen') {
      const body = document.createElement('div');
      body.className = 'msg-text';
      if (entry.kind === 'bot' || entry.kind === 'officer') {
        appendLinkified(body, entry.text);
      } else {
        body.textContent = entry.text;
      }
      el.appendChild(body);
    }
    if (entry.kind !== 'citizen' && entry.attachments && entry.attachments.length) {
      const box = document.createElement('div');
      box.className = 'msg-attachments';
      for (const a of entry.attachments) box.appendChild(buildAttachment(a, entry.text));
      el.appendChild(box);
    }

    if (entry.kind === 'citizen') {
      if (entry.payload != null) el.dataset.payload = entry.payload;
      const meta = document.createElement('div');
      meta.className = 'msg-meta';
      const mark = document.createElement('span');
      mark.className = 'msg-status';
      mark.setAttribute('role', 'img');
      meta.appendChild(mark);
      el.appendChild(meta);
      applyStatus(el, entry.status || 'pending');
    }
    return el;
  }

  function appendNode(el) {
    listEl.insertBefore(el, typingEl.parentNode === listEl ? typingEl : null);
  }

  function renderEntry(entry) {
    const drawn = entry.text || (entry.kind !== 'citizen' && entry.attachments && entry.attachments.length);
    if (!drawn) return; // choices-only message: nothing to draw
    const el = buildBubble(entry);
    bubbles.set(entry.id, el);
    appendNode(el);
  }

  function scrollToBottom() {
    const go = () => { listEl.scrollTop = listEl.scrollHeight; };
    go();
    if (window.requestAnimationFrame) window.requestAnimationFrame(go);
  }

  function addEntry(entry) {
    history.push(entry);
    if (history.length > MAX_HISTORY) history.splice(0, history.length - MAX_HISTORY);
    saveHistory();
    renderEntry(entry);
    scrollToBottom();
  }

  function addSystemNote(text, code) {
    const el = document.createElement('div');
    el.className = 'msg msg-system';
    el.dataset.id = 'sys-' + uuid();
    if (code) el.dataset.code = String(code);
    const body = document.createElement('div');
    body.className = 'msg-text';
    body.textContent = text;
    el.appendChild(body);
    appendNode(el); // system notes are not persisted
    scrollToBottom();
  }

  function setCitizenStatus(id, status) {
    const entry = history.find((e) => e.id === id && e.kind === 'citizen');
    if (entry && entry.status !== status) {
      if (entry.status === 'delivered') return; // never downgrade
      entry.status = status;
      saveHistory();
    }
    const el = bubbles.get(id);
    if (el && el.dataset.status !== 'delivered') applyStatus(el, status);
  }

  function showTyping() {
    listEl.appendChild(typingEl); // always the last child of the list
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT);
    scrollToBottom();
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typingTimer = null;
    if (typingEl.parentNode) typingEl.parentNode.removeChild(typingEl);
  }

  // --------------------------------------------------------------- choices

  function hideChoices() {
    choicesEl.textContent = '';
    choicesEl.hidden = true;
    delete choicesEl.dataset.for;
  }

  function showChoices(forId, choices) {
    hideChoices();
    if (!choices || !choices.length) return;
    choicesEl.dataset.for = forId;
    for (const c of choices) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'choice';
      b.dataset.payload = c.payload;
      b.textContent = c.title;
      b.addEventListener('click', () => onChoice(c));
      choicesEl.appendChild(b);
    }
    choicesEl.hidden = false;
    scrollToBottom();
  }

  /** After reload: show the latest server message's choices unless one was already picked. */
  function restoreChoices() {
    for (let i = history.length - 1; i >= 0; i--) {
      const e = history[i];
      if (e.kind === 'citizen' && e.payload != null) return;
      if (e.kind === 'bot' || e.kind === 'officer') {
        if (e.choices && e.choices.length) showChoices(e.id, e.choices);
        return;
      }
    }
  }

  function onChoice(choice) {
    if (choicesEl.hidden) return; // double tap
    hideChoices();
    submit({ type: 'choice', id: uuid(), payload: choice.payload, text: choice.title });
  }

  // ------------------------------------------------------------ connection

  let ws = null;
  let attempt = 0;
  let reconnectTimer = null;
  let connectTimer = null;
  let stableTimer = null;
  let ackTimer = null;

  function setStatus(state) {
    statusEl.dataset.state = state;
    statusEl.textContent = T[state];
    root.dataset.connection = state;
  }

  function wsUrl() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + location.host + wsPath; // the cookie says who we are
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws) return;
    setStatus('connecting');
    let sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (_) {
      scheduleReconnect();
      return;
    }
    ws = sock;

    connectTimer = setTimeout(() => {
      if (ws === sock && sock.readyState === WebSocket.CONNECTING) dropSocket(sock);
    }, CONNECT_TIMEOUT);

    sock.onopen = () => {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      setStatus('open');
      stableTimer = setTimeout(() => { attempt = 0; }, STABLE_AFTER);
      // New socket: everything still unacked is (re)sent, in order, with its original id.
      for (const item of outbox) item.sentAt = 0;
      flush();
    };
    sock.onmessage = (ev) => {
      if (ws !== sock) return;
      handleFrame(ev.data);
    };
    sock.onclose = () => {
      if (ws === sock) socketGone();
    };
    sock.onerror = () => { /* a close event always follows */ };
  }

  function socketGone() {
    clearTimeout(connectTimer);
    clearTimeout(stableTimer);
    clearTimeout(ackTimer);
    ackTimer = null;
    ws = null;
    for (const item of outbox) item.sentAt = 0;
    hideTyping();
    setStatus('closed');
    scheduleReconnect();
  }

  function dropSocket(sock) {
    sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
    try { sock.close(4000, 'client reconnect'); } catch (_) { /* ignore */ }
    if (ws === sock) socketGone();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    const delay = Math.min(BACKOFF_MAX, base * (0.8 + Math.random() * 0.4)); // ±20% jitter
    attempt = Math.min(attempt + 1, 16);
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (ws) return;
    attempt = 0;
    connect();
  }

  window.addEventListener('online', reconnectNow);
  window.addEventListener('pageshow', reconnectNow);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectNow();
  });

  // ---------------------------------------------------------------- outbox

  function transmit(item) {
    try {
      ws.send(JSON.stringify(item.frame));
    } catch (_) {
      return false;
    }
    item.sentAt = Date.now();
    return true;
  }

  function flush() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    let sent = false;
    for (const item of outbox) {
      if (!item.sentAt && transmit(item)) sent = true;
    }
    if (sent) {
      showTyping();
      scheduleAckCheck();
    }
  }

  function scheduleAckCheck() {
    clearTimeout(ackTimer);
    ackTimer = null;
    let oldest = Infinity;
    for (const item of outbox) if (item.sentAt && item.sentAt < oldest) oldest = item.sentAt;
    if (oldest === Infinity) return;
    ackTimer = setTimeout(checkAcks, Math.max(0, oldest + ACK_TIMEOUT - Date.now()));
  }

  function checkAcks() {
    ackTimer = null;
    const now = Date.now();
    const overdue = outbox.some((item) => item.sentAt && now - item.sentAt >= ACK_TIMEOUT);
    if (overdue && ws) {
      // No ack within 10s: treat the socket as stale (half-open connections are common on
      // mobile) and reconnect; on open every unacked frame is resent with the same id.
      dropSocket(ws);
      return;
    }
    scheduleAckCheck();
  }

  function removeFromOutbox(id) {
    const i = outbox.findIndex((item) => item.frame.id === id);
    if (i < 0) return false;
    outbox.splice(i, 1);
    saveOutbox();
    scheduleAckCheck();
    return true;
  }

  function submit(frame) {
    const entry = { id: frame.id, kind: 'citizen', text: frame.text, status: 'pending', ts: Date.now() };
    if (frame.type === 'choice') entry.payload = frame.payload;
    addEntry(entry);
    outbox.push({ frame, sentAt: 0 });
    saveOutbox();
    flush();
  }

  // ------------------------------------------------------- incoming frames

  function handleFrame(raw) {
    if (typeof raw !== 'string') return;
    let f;
    try {
      f = JSON.parse(raw);
    } catch (_) {
      return;
    }
    if (!f || typeof f !== 'object') return;
    if (f.type === 'ack' || f.type === 'message') attempt = 0; // link is healthy: reset backoff
    if (f.type === 'ack') onAck(f.id);
    else if (f.type === 'message') onServerMessage(f);
    else if (f.type === 'error') onError(f);
  }

  function onAck(id) {
    if (typeof id !== 'string' || !id) return;
    removeFromOutbox(id);
    setCitizenStatus(id, 'delivered');
  }

  function onServerMessage(f) {
    const id = (typeof f.id === 'string' || typeof f.id === 'number') && f.id !== '' ? String(f.id) : null;
    if (id && seen.has(id)) return; // redelivery
    if (id) rememberServerId(id);
    if (typeof f.reply_to === 'string' && f.reply_to) onAck(f.reply_to); // a reply implies receipt
    hideTyping();

    const text = typeof f.text === 'string' ? f.text : '';
    const choices = normalizeChoices(f.choices);
    const attachments = normalizeAttachments(f.attachments);
    if (!text && !choices.length && !attachments.length) return;

    const entry = {
      id: id || 'srv-' + uuid(),
      kind: f.author === 'officer' ? 'officer' : 'bot',
      text,
      ts: Date.now(),
    };
    if (choices.length) entry.choices = choices;
    if (attachments.length) entry.attachments = attachments;
    addEntry(entry);
    showChoices(entry.id, choices); // replaces (or clears) any older message's choices
  }

  function onError(f) {
    hideTyping();
    if (f.code === 'rate_limited') {
      // Refused, not lost in transit: say so once, flag the bubble, do not resend it.
      if (f.notice) addSystemNote(T.rateLimited, 'rate_limited');
      if (typeof f.id === 'string' && removeFromOutbox(f.id)) setCitizenStatus(f.id, 'failed');
      return;
    }
    const msg = typeof f.message === 'string' && f.message.trim() ? f.message : T.error;
    addSystemNote(msg, typeof f.code === 'string' ? f.code : '');
    // Optional: an error naming one of our pending frames means the server refused it;
    // stop resending it and flag the bubble.
    if (typeof f.id === 'string' && removeFromOutbox(f.id)) setCitizenStatus(f.id, 'failed');
  }

  // -------------------------------------------------------------- composer

  function autosize() {
    input.style.height = 'auto';
    const border = input.offsetHeight - input.clientHeight;
    input.style.height = (input.scrollHeight + border) + 'px'; // capped by CSS max-height
  }

  function sendTyped() {
    const text = input.value.trim();
    if (!text) {
      if (input.value) {
        input.value = '';
        autosize();
      }
      return;
    }
    if (text.length > MAX_LEN) {
      addSystemNote(T.tooLong, 'too_long');
      return;
    }
    input.value = '';
    autosize();
    submit({ type: 'message', id: uuid(), text });
    input.focus();
  }

  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey) return;
    if (e.isComposing || e.keyCode === 229) return; // IME candidate selection
    e.preventDefault();
    sendTyped();
  });
  input.addEventListener('input', autosize);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sendTyped();
  });
  // Keep the soft keyboard open when tapping "Kirim".
  sendBtn.addEventListener('mousedown', (e) => e.preventDefault());

  // ------------------------------------------------------------------ boot

  const pendingIds = new Set(outbox.map((item) => item.frame.id));
  for (const e of history) {
    if (e.kind === 'citizen' && pendingIds.has(e.id)) e.status = 'pending';
    renderEntry(e);
  }
  restoreChoices();
  scrollToBottom();
  autosize();
  connect();

  window.omnihubChat = Object.freeze({
    get state() { return statusEl.dataset.state; },
    get outbox() { return outbox.map((item) => Object.assign({}, item.frame)); },
    get history() { return history.map((e) => Object.assign({}, e)); },
    reconnect() {
      if (ws) dropSocket(ws);
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      attempt = 0;
      connect();
    },
    /** Forget the bubbles kept in this browser (the hub still knows the visitor by its cookie). */
    reset() {
      for (const k of Object.values(KEY)) remove(k);
      location.reload();
    },
  });
})();
