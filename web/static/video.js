/* Majlis video audiences: the signalling client and the WebRTC peer connection (docs/video.md).
   Plain JavaScript, no framework. Pages give their data in data-* attributes (the CSP allows
   no inline script): the role, the per-audience tokens and the ICE servers. */
(function () {
  "use strict";

  var root = document.querySelector("[data-video-role]");
  if (!root) { return; }
  var ROLE = root.dataset.videoRole; // "official" | "room"
  var ICE_SERVERS = parseJSON(root.dataset.iceServers, []);
  var WS_URL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (root.dataset.wsPath || "/ws/video");
  var HEARTBEAT_MS = 2000;

  function parseJSON(text, fallback) {
    try { return text ? JSON.parse(text) : fallback; } catch (e) { return fallback; }
  }
  function text(key, fallback) {
    // Translated texts come in data-t-<key> attributes of the page's video root.
    var name = "t" + key.charAt(0).toUpperCase() + key.slice(1).replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); });
    return root.dataset[name] || fallback || key;
  }
  // The server sends its messages in every language (message_ar, message_en): the reader's is shown.
  function said(message) {
    return message["message_" + document.documentElement.lang] || message.message_en || "";
  }
  function $(selector, scope) { return (scope || document).querySelector(selector); }
  function $all(selector, scope) { return Array.prototype.slice.call((scope || document).querySelectorAll(selector)); }

  /* ---------- signalling: one WebSocket per audience, reconnected with backoff ---------- */

  function Signalling(token, onMessage, onStatus) {
    this.token = token;
    this.onMessage = onMessage;
    this.onStatus = onStatus || function () {};
    this.ws = null;
    this.closed = false;
    this.backoff = 500;
    this.timer = null;
    this.connect();
  }
  Signalling.prototype.connect = function () {
    var self = this;
    if (self.closed) { return; }
    var ws = new WebSocket(WS_URL);
    self.ws = ws;
    ws.onopen = function () {
      self.backoff = 500;
      self.onStatus("open");
      self.send({ type: "join" });
    };
    ws.onmessage = function (event) {
      var message = parseJSON(event.data, null);
      if (message && typeof message.type === "string") { self.onMessage(message); }
    };
    ws.onclose = function () {
      if (self.ws !== ws) { return; }
      if (self.onClose) { self.onClose(); }
      self.ws = null;
      self.onStatus("closed");
      if (self.closed) { return; }
      // Back off 0.5 s, 1 s, 2 s … up to 8 s, with jitter so many consoles do not return at once.
      var delay = self.backoff * (0.75 + Math.random() * 0.5);
      self.backoff = Math.min(self.backoff * 2, 8000);
      self.timer = setTimeout(function () { self.connect(); }, delay);
    };
    ws.onerror = function () { /* onclose follows */ };
  };
  Signalling.prototype.isOpen = function () { return !!this.ws && this.ws.readyState === WebSocket.OPEN; };
  Signalling.prototype.send = function (message) {
    if (!this.isOpen()) { return false; }
    message.token = this.token;
    this.ws.send(JSON.stringify(message));
    return true;
  };
  Signalling.prototype.close = function () {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
  };

  /* ---------- one audience's call ---------- */

  function Call(audienceId, token, options) {
    this.audienceId = audienceId;
    this.token = token;
    this.options = options; // {localStream: () => Promise<MediaStream>, onRemote, onState, onEnded, onMute}
    this.pc = null;
    this.remoteStream = null;
    this.wantCall = false; // the official's side: a call was started and not ended
    this.inCall = false;
    this.ended = false;
    this.peerPresent = false;
    this.lastFrames = 0;
    // "direct" (browser to browser) or "bridge" (each side to the server, which relays): the server decides.
    this.path = "direct";
    this.setState("connecting");
    var self = this;
    this.signalling = new Signalling(token, function (m) { self.receive(m); }, function (status) {
      if (status === "closed" && !self.ended) { self.setState(self.inCall ? "reconnecting" : "connecting"); }
    });
    this.signalling.onClose = function () { self.joined = false; };
    this.heartbeat = setInterval(function () { self.beat(); }, HEARTBEAT_MS);
  }
  Call.prototype.setState = function (state) {
    this.state = state;
    if (this.options.onState) { this.options.onState(state, this); }
  };
  Call.prototype.receive = function (m) {
    var self = this;
    switch (m.type) {
      case "joined":
        self.joined = true;
        self.peerPresent = !!m.peer_present;
        self.setPath(m.path);
        if (self.options.onRecording) { self.options.onRecording(!!m.recording); }
        self.setState(self.inCall ? "reconnecting" : (self.peerPresent ? "peer_present" : "waiting"));
        // During a call the server itself asks both sides to rebuild ("reconnect") once both are back.
        if (ROLE === "official" && self.wantCall && !self.inCall) { self.tryCall(); }
        break;
      case "peer_joined":
        self.peerPresent = true;
        if (!self.inCall) { self.setState("peer_present"); }
        if (ROLE === "official" && self.wantCall && !self.inCall) { self.tryCall(); }
        break;
      case "peer_left":
        self.peerPresent = false;
        if (self.inCall) { self.setState("reconnecting"); } else { self.setState("waiting"); }
        break;
      case "call":
        // The room is told the official is calling; his offer follows (direct), or it offers to the server itself (bridge).
        self.inCall = true;
        self.setPath(m.path);
        self.setState("in_call");
        if (ROLE === "room" && self.path === "bridge") { self.offer(); }
        break;
      case "path":
        self.setPath(m.path);
        break;
      case "reconnect":
        self.setPath(m.path);
        self.setState("reconnecting");
        self.closePeer();
        if (ROLE === "official" || self.path === "bridge") { self.offer(); }
        break;
      case "quality":
        if (self.options.onQuality) { self.options.onQuality(m.from, m.problems || []); }
        break;
      case "recording":
        if (self.options.onRecording) { self.options.onRecording(!!m.on); }
        break;
      case "offer":
        if (ROLE === "room") { self.answer(m.sdp, m.id); }
        break;
      case "answer":
        // From the room (direct) or from the server (bridge, either side); an answer to an offer this page has
        // since replaced (a reconnect while it was on its way) would not fit the new connection.
        if (m.id !== undefined && m.id !== self.offerId) { break; }
        if (self.pc && self.pc.signalingState === "have-local-offer") {
          self.pc.setRemoteDescription({ type: "answer", sdp: m.sdp }).then(function () { self.flushRemoteIce(); })
            .catch(function (e) { console.warn("answer refused", e); });
        }
        break;
      case "ice":
        self.addRemoteIce(m.candidate);
        break;
      case "mute":
        if (self.options.onMute) { self.options.onMute(!!m.muted); }
        break;
      case "ended":
        self.finish(m.by);
        break;
      case "error":
        console.warn("signalling error", m.code, m.message_en);
        if (self.options.onError) { self.options.onError(m); }
        if (m.code === "audience_ended") { self.finish(null); }
        if ((m.code === "peer_absent" || m.code === "bridge_full") && ROLE === "official") {
          // Called before the room came online: the call goes out when it joins (peer_joined).
          self.inCall = false;
          self.closePeer();
          self.setState("waiting");
        }
        if (m.code === "replaced") {
          // This side was opened in another window, which now holds the call; do not fight it.
          self.signalling.close();
          self.setState("replaced");
        }
        break;
      default:
        break;
    }
  };
  Call.prototype.setPath = function (path) {
    if (path !== "bridge" && path !== "direct") { return; }
    this.path = path;
    root.dataset.path = path;
  };
  Call.prototype.buildPeer = function () {
    var self = this;
    self.closePeer();
    var pc = new RTCPeerConnection({ iceServers: ICE_SERVERS });
    self.pc = pc;
    self.remoteIce = [];
    self.localIce = [];
    self.described = false;
    self.lastFrames = 0;
    self.remoteStream = new MediaStream();
    pc.ontrack = function (event) {
      if (self.pc !== pc) { return; }
      self.remoteStream.addTrack(event.track);
      if (self.options.onRemote) { self.options.onRemote(self.remoteStream); }
    };
    pc.onicecandidate = function (event) {
      if (self.pc !== pc) { return; }
      var candidate = event.candidate ? event.candidate.toJSON() : null;
      // Candidates wait until our description has gone out, so the other side can use them.
      if (self.described) { self.signalling.send({ type: "ice", candidate: candidate }); } else { self.localIce.push(candidate); }
    };
    pc.onconnectionstatechange = function () {
      if (self.pc !== pc) { return; }
      if (pc.connectionState === "connected") { self.inCall = true; self.setState("in_call"); }
      if (pc.connectionState === "failed" || pc.connectionState === "disconnected") { self.setState("reconnecting"); }
    };
    return self.options.localStream().then(function (stream) {
      if (self.pc !== pc) { throw new Error("superseded"); }
      stream.getTracks().forEach(function (track) { pc.addTrack(track, stream); });
      return pc;
    });
  };
  Call.prototype.descriptionSent = function () {
    var self = this;
    self.described = true;
    self.localIce.forEach(function (c) { self.signalling.send({ type: "ice", candidate: c }); });
    self.localIce = [];
  };
  Call.prototype.offer = function () {
    var self = this;
    if (self.ended) { return; }
    self.buildPeer().then(function (pc) {
      return pc.createOffer().then(function (offer) { return pc.setLocalDescription(offer); }).then(function () {
        if (self.pc !== pc) { return; }
        self.offerId = (self.offerId || 0) + 1;
        self.signalling.send({ type: "offer", sdp: pc.localDescription.sdp, id: self.offerId });
        self.descriptionSent();
        // A rebuilt room page does not know the official is muted: tell it again.
        if (self.muted) { self.signalling.send({ type: "mute", muted: true }); }
      });
    }).catch(function (e) { if (String(e.message) !== "superseded") { console.warn("offer failed", e); } });
  };
  Call.prototype.answer = function (sdp, offerId) {
    var self = this;
    if (self.ended) { return; }
    // Every offer comes from a fresh connection on the official's side: answer it with a fresh one.
    self.inCall = true;
    self.buildPeer().then(function (pc) {
      return pc.setRemoteDescription({ type: "offer", sdp: sdp }).then(function () {
        self.flushRemoteIce();
        return pc.createAnswer();
      }).then(function (answer) { return pc.setLocalDescription(answer); }).then(function () {
        if (self.pc !== pc) { return; }
        var answer = { type: "answer", sdp: pc.localDescription.sdp };
        if (offerId !== undefined) { answer.id = offerId; }
        self.signalling.send(answer);
        self.descriptionSent();
      });
    }).catch(function (e) { if (String(e.message) !== "superseded") { console.warn("answer failed", e); } });
  };
  Call.prototype.addRemoteIce = function (candidate) {
    if (!this.pc) { return; }
    if (!this.pc.remoteDescription) { this.remoteIce.push(candidate); return; }
    // A candidate of a connection already replaced is refused by the browser: harmless.
    this.pc.addIceCandidate(candidate || null).catch(function () {});
  };
  Call.prototype.flushRemoteIce = function () {
    var self = this;
    var waiting = self.remoteIce || [];
    self.remoteIce = [];
    waiting.forEach(function (c) { self.addRemoteIce(c); });
  };
  Call.prototype.closePeer = function () {
    if (this.pc) {
      var pc = this.pc;
      this.pc = null;
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
    this.remoteStream = null;
  };
  Call.prototype.framesDecoded = function () {
    var pc = this.pc;
    if (!pc) { return Promise.resolve(0); }
    return pc.getStats().then(function (report) {
      var frames = 0;
      report.forEach(function (stat) {
        if (stat.type === "inbound-rtp" && (stat.kind === "video" || stat.mediaType === "video")) { frames += stat.framesDecoded || 0; }
      });
      return frames;
    }).catch(function () { return 0; });
  };
  Call.prototype.beat = function () {
    var self = this;
    if (self.ended) { return; }
    self.framesDecoded().then(function (frames) {
      var media = frames > self.lastFrames;
      self.lastFrames = frames;
      self.signalling.send({ type: "heartbeat", media: media });
    });
  };
  Call.prototype.start = function () {
    this.wantCall = true;
    this.ended = false;
    if (this.signalling.isOpen() && this.joined) { this.tryCall(); }
    // Otherwise the socket is still opening: "joined" sends the call and the offer.
  };
  Call.prototype.tryCall = function () {
    if (!this.peerPresent) { this.setState("waiting"); return; }
    this.inCall = true;
    this.signalling.send({ type: "call" });
    this.offer();
  };
  Call.prototype.end = function (reason) {
    this.signalling.send({ type: "end", reason: reason });
  };
  Call.prototype.sendState = function (roomState) {
    this.roomState = roomState;
    this.signalling.send({ type: "state", room_state: roomState });
  };
  Call.prototype.mute = function (muted) { this.muted = muted; this.signalling.send({ type: "mute", muted: muted }); };
  Call.prototype.finish = function (by) {
    if (this.ended) { return; }
    this.ended = true;
    this.wantCall = false;
    this.inCall = false;
    // Closing the connection ends its receivers' tracks; stopping them as well leaves nothing of the call running.
    if (this.remoteStream) { this.remoteStream.getTracks().forEach(function (t) { t.stop(); }); }
    this.closePeer();
    this.setState("ended");
    if (this.options.onEnded) { this.options.onEnded(by, this); }
  };
  Call.prototype.close = function () {
    clearInterval(this.heartbeat);
    this.closePeer();
    this.signalling.close();
  };

  /* ---------- local media ---------- */

  // generation: bumped when the camera is stopped, so a stream still being opened then is stopped on arrival.
  var local = { stream: null, pending: null, constraints: { audio: true, video: true }, generation: 0, onStream: null };
  function localStream() {
    if (local.stream) { return Promise.resolve(local.stream); }
    if (!local.pending) {
      var generation = local.generation;
      local.pending = navigator.mediaDevices.getUserMedia(local.constraints).then(function (stream) {
        if (generation !== local.generation) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          throw new Error("superseded");
        }
        local.stream = stream;
        local.pending = null;
        $all("video.self-view").forEach(function (v) { v.srcObject = stream; });
        if (local.onStream) { local.onStream(stream); }
        return stream;
      }, function (error) { local.pending = null; throw error; });
    }
    return local.pending;
  }
  // After an audience: the camera and microphone are released (their light goes off) until the next call opens them.
  function stopLocal() {
    local.generation += 1;
    local.pending = null;
    if (local.stream) { local.stream.getTracks().forEach(function (t) { t.stop(); }); }
    local.stream = null;
    $all("video.self-view, video.remote-view").forEach(function (v) { v.srcObject = null; });
  }
  function useStream(stream) {
    if (local.stream && local.stream !== stream) { local.stream.getTracks().forEach(function (t) { t.stop(); }); }
    local.stream = stream;
    $all("video.self-view").forEach(function (v) { v.srcObject = stream; });
  }

  /* ---------- what the page shows ---------- */

  var current = null; // the Call in progress (or waiting) on this page
  var STATE_TEXT = {
    connecting: text("connecting", "Connecting…"),
    waiting: text("waiting", "Waiting for the other side"),
    peer_present: text("peer-present", "The other side is connected"),
    in_call: text("in-call", "In call"),
    reconnecting: text("reconnecting", "Reconnecting…"),
    ended: text("ended", "Ended"),
    replaced: text("replaced", "Opened in another window")
  };
  function showState(state) {
    root.dataset.callState = state;
    if (state === "in_call") { var error = $("#call-error"); if (error) { error.hidden = true; } }
    var badge = $("#call-state");
    if (badge) { badge.textContent = STATE_TEXT[state] || state; badge.dataset.state = state; }
  }
  function showRemote(stream) {
    // With the screen open, the applicant hears the official from it alone, not twice.
    var onScreen = !!screen.alive();
    $all("video.remote-view").forEach(function (v) {
      if (v.srcObject !== stream) { v.srcObject = stream; }
      v.muted = onScreen;
    });
    screen.show(stream);
  }

  /* The bridge's live warnings (official's console): what is wrong with each side's picture now. */
  var qualityNow = { room: [], official: [] };
  function showQuality(from, problems) {
    if (from !== "room" && from !== "official") { return; }
    qualityNow[from] = problems;
    var box = $("#quality-warning");
    if (!box) { return; }
    var list = $("ul", box);
    list.textContent = "";
    var count = 0;
    ["room", "official"].forEach(function (side) {
      qualityNow[side].forEach(function (p) {
        var item = document.createElement("li");
        item.dataset.code = p.code;
        item.dataset.from = side;
        var who = side === "room" ? text("from-room", "Room's picture") : text("from-official", "Your picture");
        item.textContent = who + ": " + said(p);
        list.appendChild(item);
        count += 1;
      });
    });
    box.hidden = count === 0;
    root.dataset.qualityProblems = String(count);
  }
  var recordingNow = false;
  function showRecording(on) {
    recordingNow = on;
    root.dataset.recording = on ? "1" : "0";
    screen.recording(on);
    var note = $("#recording-note");
    if (note) { note.hidden = !on; }
    var button = $("#record-button");
    if (button) {
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? text("stop-recording", "Stop recording") : text("start-recording", "Record");
    }
  }
  function showError(m) {
    var box = $("#call-error");
    if (!box) { return; }
    box.textContent = said(m);
    box.dataset.code = m.code;
    box.hidden = false;
  }

  /* The room screen is a window the console opens on the display facing the applicant; the
     console holds the call and hands the screen its streams (same origin, so it may). */
  var screen = {
    win: null,
    open: function (url) {
      this.win = window.open(url, "majlis-room-screen");
      return this.win;
    },
    attach: function (win) {
      this.win = win;
      if (current && current.remoteStream) { showRemote(current.remoteStream); } else { this.wait(); }
      this.recording(recordingNow);
    },
    alive: function () { return this.win && !this.win.closed && this.win.majlisScreen; },
    show: function (stream) { if (this.alive()) { this.win.majlisScreen.show(stream, local.stream); } },
    recording: function (on) { if (this.alive() && this.win.majlisScreen.recording) { this.win.majlisScreen.recording(on); } },
    wait: function () { if (this.alive()) { this.win.majlisScreen.wait(); } }
  };

  function newCall(audienceId, token, extra) {
    var options = {
      localStream: localStream,
      onRemote: showRemote,
      onState: function (state, call) {
        if (call !== current) { return; }
        showState(state);
        if (extra && extra.onState) { extra.onState(state, call); }
      },
      onEnded: function (by, call) {
        stopLocal();
        var error = $("#call-error");
        if (error) { error.hidden = true; error.textContent = ""; }
        var note = $("#official-muted");
        if (note) { note.hidden = true; }
        screen.wait();
        showQuality("room", []);
        showQuality("official", []);
        showRecording(false);
        if (extra && extra.onEnded) { extra.onEnded(by, call); }
      },
      onError: function (m) {
        if (["bridge_full", "recording_not_allowed", "recording_no_room", "no_consent", "not_in_call"].indexOf(m.code) >= 0) { showError(m); }
      },
      onMute: function (muted) {
        var note = $("#official-muted");
        if (note) { note.hidden = !muted; }
      },
      onQuality: showQuality,
      onRecording: showRecording
    };
    return new Call(audienceId, token, options);
  }

  /* ---------- the official's console ---------- */

  function officialConsole() {
    var muted = false;
    var muteButton = $("#mute-button");
    var recordButton = $("#record-button");
    function showMuted(on) {
      muted = on;
      if (local.stream) { local.stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; }); }
      if (muteButton) {
        muteButton.setAttribute("aria-pressed", String(muted));
        muteButton.textContent = muted ? text("unmute", "Unmute") : text("mute", "Mute");
      }
    }
    function select(button) {
      var row = button.closest("[data-audience-id]");
      var audienceId = row.dataset.audienceId;
      if (current && String(current.audienceId) !== audienceId) { current.close(); current = null; }
      if (!current) {
        current = newCall(audienceId, row.dataset.token, {
          onState: function (state) {
            var live = state === "in_call" || state === "reconnecting";
            $all("[data-audience-id] .call-button").forEach(function (b) { b.disabled = live; });
            var end = $(".end-button", row);
            if (end) { end.disabled = state === "ended"; }
            // Recording starts and stops only while the call is up (the server refuses it otherwise).
            if (recordButton) { recordButton.disabled = !live; }
          },
          onEnded: function (by, call) {
            // Back to the state before the call: no stage, microphone not muted, nothing of the call left open.
            $all(".call-button, .end-button", row).forEach(function (b) { b.hidden = true; });
            $("#call-stage").hidden = true;
            showMuted(false);
            if (recordButton) { recordButton.disabled = true; }
            call.close();
            row.classList.add("ended");
            $all("[data-audience-id] .call-button").forEach(function (b) { b.disabled = false; });
            // Then the outcome is what the page is about: its form in view, the reader on its first field.
            var form = $("form.outcome", row);
            if (form) {
              form.hidden = false;
              form.scrollIntoView({ block: "start" });
              var first = $("select, textarea", form);
              if (first) { first.focus({ preventScroll: true }); }
            }
          }
        });
      }
      return current;
    }
    $all("[data-audience-id] .call-button").forEach(function (button) {
      button.addEventListener("click", function () {
        var call = select(button);
        $("#call-stage").hidden = false;
        call.muted = muted;
        localStream().then(function (stream) {
          stream.getAudioTracks().forEach(function (t) { t.enabled = !muted; });
          call.start();
        }).catch(function (e) {
          console.warn("camera or microphone refused", e);
          var badge = $("#call-state");
          if (badge) { badge.textContent = text("devices-failed", "The camera or microphone could not be opened."); badge.dataset.state = "reconnecting"; }
        });
      });
    });
    $all("[data-audience-id] .end-button").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("[data-audience-id]");
        if (current && String(current.audienceId) === row.dataset.audienceId) { current.end("done"); }
      });
    });
    // A reloaded console goes back into the call it was holding: the server then asks both sides to rebuild.
    var running = $('[data-audience-id][data-video-state="in_call"] .call-button');
    if (running) {
      var call = select(running);
      call.wantCall = true;
      call.inCall = true;
      $("#call-stage").hidden = false;
      localStream().catch(function () {});
    }
    if (recordButton) {
      recordButton.addEventListener("click", function () {
        if (!current) { return; }
        var on = recordButton.getAttribute("aria-pressed") !== "true";
        current.signalling.send({ type: "record", on: on });
      });
    }
    if (muteButton) {
      muteButton.addEventListener("click", function () {
        showMuted(!muted);
        if (current) { current.mute(muted); }
      });
    }
  }

  /* ---------- the room console: device check, ready, check-in, emergency end ---------- */

  function roomConsole() {
    var audiences = $all("[data-audience-id][data-token]").filter(function (row) { return row.dataset.ended !== "1"; });
    var ready = false;
    var present = false;
    var cameraSelect = $("#camera");
    var micSelect = $("#microphone");
    var meter = $("#mic-level");
    var readyButton = $("#room-ready");
    var checkButton = $("#device-check");
    var audio = { context: null, analyser: null, source: null, raf: 0 };

    function join(index) {
      if (current) { current.close(); current = null; }
      var row = audiences[index];
      if (!row) { showState("ended"); return; }
      present = row.dataset.checkedIn === "1";
      current = newCall(row.dataset.audienceId, row.dataset.token, {
        onState: function (state, call) {
          // After each (re)join the server learns again how the room stands.
          if ((state === "waiting" || state === "peer_present") && !call.stateSent) {
            call.stateSent = true;
            if (present) { call.sendState("present"); } else if (ready) { call.sendState("ready"); }
          }
          if (state === "connecting" || state === "reconnecting") { call.stateSent = false; }
          var emergency = $("#emergency-end");
          if (emergency) { emergency.disabled = state !== "in_call" && state !== "reconnecting"; }
        },
        onEnded: function () {
          row.dataset.ended = "1";
          row.classList.add("ended");
          // The camera is off now (stopLocal): the meter rests until the next call opens the microphone again.
          quiet();
          var emergency = $("#emergency-end");
          if (emergency) { emergency.disabled = true; }
          var confirmEnd = $("#emergency-confirm");
          if (confirmEnd) { confirmEnd.hidden = true; }
          var next = audiences.indexOf(row) + 1;
          setTimeout(function () { join(next); }, 500);
        }
      });
      $all("[data-audience-id]").forEach(function (r) { r.classList.toggle("current", r === row); });
    }

    function fillDevices() {
      return navigator.mediaDevices.enumerateDevices().then(function (devices) {
        [[cameraSelect, "videoinput"], [micSelect, "audioinput"]].forEach(function (pair) {
          var selectEl = pair[0];
          if (!selectEl) { return; }
          var chosen = selectEl.value || sessionStorage.getItem("majlis-" + selectEl.id) || "";
          selectEl.textContent = "";
          devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
            var option = document.createElement("option");
            option.value = d.deviceId;
            if (d.label) {
              // The device's own name, in whatever language its maker or the system gave it.
              option.textContent = d.label;
              option.lang = "";
              option.dir = "auto";
            } else {
              // Named only once the browser may use the devices: numbered in the page's language until then.
              option.textContent = text(pair[1] === "videoinput" ? "camera-number" : "microphone-number", "{number}")
                .replace("{number}", String(i + 1));
            }
            if (d.deviceId === chosen) { option.selected = true; }
            selectEl.appendChild(option);
          });
        });
      });
    }
    function listen(stream) {
      var AudioContextClass = window.AudioContext || window.webkitAudioContext;
      if (!AudioContextClass || !meter) { return; }
      if (!audio.context) { audio.context = new AudioContextClass(); }
      if (audio.source) { audio.source.disconnect(); }
      if (stream.getAudioTracks().length === 0) { return; }
      audio.analyser = audio.context.createAnalyser();
      audio.analyser.fftSize = 1024;
      audio.source = audio.context.createMediaStreamSource(stream);
      audio.source.connect(audio.analyser);
      audio.context.resume();
      var samples = new Float32Array(audio.analyser.fftSize);
      cancelAnimationFrame(audio.raf);
      var tick = function () {
        audio.analyser.getFloatTimeDomainData(samples);
        var sum = 0;
        for (var i = 0; i < samples.length; i++) { sum += samples[i] * samples[i]; }
        // Root mean square, scaled so ordinary speech fills most of the meter.
        var level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
        meter.value = level;
        meter.dataset.level = level.toFixed(3);
        if (level > 0.01) { meter.dataset.heard = "1"; }
        audio.raf = requestAnimationFrame(tick);
      };
      tick();
    }
    function quiet() {
      cancelAnimationFrame(audio.raf);
      if (audio.source) { audio.source.disconnect(); audio.source = null; }
      if (meter) { meter.value = 0; meter.dataset.level = "0.000"; }
    }
    local.onStream = listen;
    function deviceCheck() {
      var constraints = {
        video: cameraSelect && cameraSelect.value ? { deviceId: { exact: cameraSelect.value } } : true,
        audio: micSelect && micSelect.value ? { deviceId: { exact: micSelect.value } } : true
      };
      local.constraints = constraints;
      return navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
        useStream(stream);
        listen(stream);
        if (cameraSelect) { sessionStorage.setItem("majlis-camera", cameraSelect.value); }
        if (micSelect) { sessionStorage.setItem("majlis-microphone", micSelect.value); }
        return fillDevices();
      }).then(function () {
        if (readyButton) { readyButton.disabled = false; }
        $("#device-status").textContent = text("devices-ok", "Camera and microphone work.");
        root.dataset.deviceCheck = "passed";
      }).catch(function (e) {
        console.warn("device check failed", e);
        $("#device-status").textContent = text("devices-failed", "The camera or microphone could not be opened.");
        root.dataset.deviceCheck = "failed";
      });
    }
    function markReady() {
      ready = true;
      sessionStorage.setItem("majlis-ready-" + root.dataset.roomId, "1");
      root.dataset.roomReady = "1";
      if (readyButton) { readyButton.setAttribute("aria-pressed", "true"); readyButton.textContent = text("room-is-ready", "The room is ready"); }
      if (current && !present) { current.sendState("ready"); }
    }

    if (checkButton) { checkButton.addEventListener("click", deviceCheck); }
    [cameraSelect, micSelect].forEach(function (el) { if (el) { el.addEventListener("change", function () { if (local.stream) { deviceCheck(); } }); } });
    if (readyButton) { readyButton.addEventListener("click", markReady); }

    // Checking in without leaving the page, so the call and the device check go on.
    $all("form.check-in").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" }).then(function (response) {
          if (!response.ok) { throw new Error("check-in refused: " + response.status); }
          var row = form.closest("[data-audience-id]");
          row.dataset.checkedIn = "1";
          row.classList.add("checked-in");
          form.hidden = true;
          var note = $(".checked-in-note", row);
          if (note) { note.hidden = false; }
          if (current && String(current.audienceId) === row.dataset.audienceId) { present = true; current.sendState("present"); }
        }).catch(function (e) { console.warn(e); form.submit(); });
      });
    });

    var emergency = $("#emergency-end");
    var confirmEnd = $("#emergency-confirm");
    if (emergency && confirmEnd) {
      // Two steps, so a slip of the hand does not cut the applicant off.
      emergency.addEventListener("click", function () { confirmEnd.hidden = false; confirmEnd.focus(); });
      confirmEnd.addEventListener("click", function () { confirmEnd.hidden = true; if (current) { current.end("emergency"); } });
    }
    var openScreen = $("#open-screen");
    if (openScreen) {
      openScreen.addEventListener("click", function () { screen.open(openScreen.dataset.url); });
    }

    // A reloaded console repeats the device check it had passed, with the same devices.
    ready = sessionStorage.getItem("majlis-ready-" + root.dataset.roomId) === "1";
    fillDevices().then(function () {
      if (ready) { deviceCheck().then(function () { if (root.dataset.deviceCheck === "passed") { markReady(); } }); }
    });
    join(0);
  }

  window.majlisVideo = {
    framesDecoded: function () { return current ? current.framesDecoded() : Promise.resolve(0); },
    state: function () { return current ? current.state : "idle"; },
    audienceId: function () { return current ? current.audienceId : null; },
    attachScreen: function (win) { screen.attach(win); },
    path: function () { return current ? current.path : null; }
  };

  if (ROLE === "official") { officialConsole(); } else if (ROLE === "room") { roomConsole(); }
})();
