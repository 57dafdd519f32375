// Interlock console: live countdowns and live inbox updates. Every page works without
// this script; it only keeps what is on screen current.
"use strict";

(function () {
  // ---- countdowns --------------------------------------------------------------------
  // Each <time class="remaining"> carries the milliseconds left when the page was made and
  // how many Interlock milliseconds pass per real one (a demo clock may run faster).
  function text(ms) {
    if (ms <= 0) { return "due now"; }
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var parts = [];
    if (h > 0) { parts.push(h + "h"); }
    if (m > 0) { parts.push(m + "m"); }
    if (sec > 0 || parts.length === 0) { parts.push(sec + "s"); }
    return parts.join(" ");
  }
  function startCountdowns(root) {
    var now = performance.now();
    root.querySelectorAll("time.remaining").forEach(function (el) {
      el.dataset.loadedAt = String(now);
    });
  }
  function tick() {
    var now = performance.now();
    document.querySelectorAll("time.remaining").forEach(function (el) {
      var left = Number(el.dataset.remainingMs);
      var rate = Number(el.dataset.rate) || 1;
      var since = now - Number(el.dataset.loadedAt || now);
      el.textContent = text(left - since * rate);
    });
  }
  startCountdowns(document);
  tick();
  setInterval(tick, 1000);

  // ---- live updates ------------------------------------------------------------------
  var status = document.getElementById("live-status");
  function say(message) { if (status) { status.textContent = message; } }

  // Keeps what the person typed or ticked when the list is redrawn.
  function remember(root) {
    var kept = {};
    root.querySelectorAll("input[id]").forEach(function (el) {
      kept[el.id] = el.type === "checkbox" ? el.checked : el.value;
    });
    return kept;
  }
  function restore(root, kept) {
    Object.keys(kept).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el || !root.contains(el)) { return; }
      if (el.type === "checkbox") { el.checked = kept[id]; } else { el.value = kept[id]; }
    });
  }

  var list = document.getElementById("inbox-list");
  var pending = null;
  function refresh() {
    pending = null;
    fetch(list.dataset.refresh, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (html) {
        var focused = document.activeElement && document.activeElement.id;
        var kept = remember(list);
        list.innerHTML = html;
        restore(list, kept);
        if (focused) { var f = document.getElementById(focused); if (f) { f.focus(); } }
        startCountdowns(list);
        tick();
        say("Updated " + new Date().toLocaleTimeString());
      })
      .catch(function (e) { say("Could not refresh: " + e.message); });
  }
  function soon() { if (!pending) { pending = setTimeout(refresh, 150); } }

  var page = document.querySelector("article.action[data-id]");
  var events = null;
  if (list && window.EventSource) {
    events = new EventSource(list.dataset.events);
    events.addEventListener("action", soon);
    events.addEventListener("resync", soon);
  } else if (page && !list && window.EventSource) {
    // An action page reloads when its action changes, unless the person is typing.
    events = new EventSource("/v1/events");
    events.addEventListener("action", function (ev) {
      var data = JSON.parse(ev.data);
      if (data.action_id !== page.dataset.id) { return; }
      var typing = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
      if (typing) {
        var note = document.getElementById("changed-note");
        if (note) { note.hidden = false; }
      } else {
        window.location.reload();
      }
    });
  }
  if (events) {
    events.onopen = function () { say("Live"); };
    events.onerror = function () { say("Reconnecting…"); };
  }
})();
