/* Live room states and waiting times on the official's console and the room consoles,
   pushed over /ws/consoles (docs/video.md), without reloading the page. */
(function () {
  "use strict";
  var root = document.querySelector("[data-consoles]");
  if (!root) { return; }
  var URL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (root.dataset.consoles || "/ws/consoles");
  var STATES = ["offline", "ready", "present", "in_call", "reconnecting"];
  var backoff = 500;

  // A badge may say a state its own way (data-state-present of a men's room on the official's console).
  function label(state, el) {
    var key = "state" + state.replace(/(^|_)([a-z])/g, function (_, __, c) { return c.toUpperCase(); });
    return (el && el.dataset[key]) || root.dataset[key] || state;
  }
  function $all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }

  function showRoom(room) {
    var state = STATES.indexOf(room.state) >= 0 ? room.state : "offline";
    $all('[data-room-state="' + room.room_id + '"]').forEach(function (el) {
      el.dataset.state = state;
      el.textContent = label(state, el);
    });
    $all('[data-room-waiting="' + room.room_id + '"]').forEach(function (el) {
      if (room.applicant_waiting_since) { el.dataset.waitingSince = room.applicant_waiting_since; } else { delete el.dataset.waitingSince; el.textContent = ""; }
    });
  }
  function showQueue(message) {
    (message.audiences || []).forEach(function (a) {
      $all('[data-audience-id="' + a.audience_id + '"]').forEach(function (row) {
        var state = a.state === "waiting" ? "offline" : a.state; // no live call: the room is not connected to it
        row.dataset.videoState = a.record_state || row.dataset.videoState;
        row.classList.toggle("ended", a.record_state === "ended");
        var badge = row.querySelector("[data-audience-state]");
        if (badge && state) {
          badge.dataset.state = state;
          badge.textContent = state === "ended" ? (root.dataset.stateEnded || state) : label(state, badge);
        }
        var waiting = row.querySelector("[data-waiting]");
        if (!waiting) { return; }
        if (a.checked_in_at && a.record_state === "waiting") {
          waiting.dataset.waitingSince = a.checked_in_at;
        } else {
          delete waiting.dataset.waitingSince;
          waiting.textContent = "";
        }
      });
    });
  }
  function tick() {
    var now = Date.now();
    $all("[data-waiting-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.waitingSince);
      if (isNaN(since)) { return; }
      var seconds = Math.max(0, Math.floor((now - since) / 1000));
      var minutes = Math.floor(seconds / 60);
      var text = String(minutes) + ":" + String(seconds % 60).padStart(2, "0");
      el.textContent = (root.dataset.waitingLabel || "") + " " + text;
    });
  }
  /* The official's console: which rooms' last pre-call check today failed (web/official_room_checks.py), asked
     again when a room's state changes (a room marks itself ready after its check) and every half minute. */
  var CHECKS_MS = 30000;
  var checksTimer = 0;
  function showRoomChecks(failed) {
    $all("[data-room-check]").forEach(function (note) {
      var names = failed[note.dataset.roomCheck];
      note.hidden = !names;
      var list = note.querySelector("ul");
      if (!list) { return; }
      list.textContent = "";
      (names || []).forEach(function (name) {
        var item = document.createElement("li");
        item.textContent = name;
        list.appendChild(item);
      });
    });
  }
  function readRoomChecks() {
    var ids = {};
    $all("[data-room-check]").forEach(function (note) { ids[note.dataset.roomCheck] = true; });
    var query = Object.keys(ids).map(function (id) { return "room=" + encodeURIComponent(id); }).join("&");
    if (!query) { return; }
    fetch(root.dataset.roomChecks + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && body.failed) { showRoomChecks(body.failed); } })
      .catch(function () { /* asked again shortly */ });
  }
  function roomChecksSoon() {
    if (!root.dataset.roomChecks) { return; }
    // Several rooms change state together at times: one request for them all.
    clearTimeout(checksTimer);
    checksTimer = setTimeout(readRoomChecks, 1000);
  }
  if (root.dataset.roomChecks) { setInterval(readRoomChecks, CHECKS_MS); }

  function connect() {
    var ws = new WebSocket(URL);
    ws.onopen = function () { backoff = 500; root.dataset.live = "1"; };
    ws.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "rooms") { (message.rooms || []).forEach(showRoom); roomChecksSoon(); }
      if (message.type === "queue") { showQueue(message); }
      tick();
    };
    ws.onclose = function () {
      root.dataset.live = "0";
      var delay = backoff * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, 8000);
      setTimeout(connect, delay);
    };
  }
  connect();
  tick();
  setInterval(tick, 1000);
})();
