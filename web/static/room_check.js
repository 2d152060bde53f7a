/* Majlis: the room's pre-call check on the server (web/room_checks.py, video/room_check.py).
   The room sends a few seconds of its camera and microphone to a peer on the server, which judges the
   picture and the sound; the panel shows the verdict with each problem in Arabic and in English, the
   picture the server received and the room's earlier checks today. Plain JavaScript; the page gives its
   data and translated texts in data-* attributes (the CSP allows no inline script). */
(function () {
  "use strict";

  var panel = document.getElementById("room-check");
  if (!panel || !window.RTCPeerConnection || !navigator.mediaDevices) { return; }
  var POLL_MS = 500;
  var GATHER_MS = 3000;
  var button = document.getElementById("room-check-start");
  var statusLine = document.getElementById("room-check-status");
  var result = document.getElementById("room-check-result");
  var verdictLine = document.getElementById("room-check-verdict");
  var problemList = document.getElementById("room-check-problems");
  var measureList = document.getElementById("room-check-measures");
  var picture = document.getElementById("room-check-picture");
  var earlier = document.getElementById("room-check-earlier");
  var running = null; // {pc, stream}

  function text(key, fallback) {
    var name = "t" + key.charAt(0).toUpperCase() + key.slice(1).replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); });
    return panel.dataset[name] || fallback || key;
  }
  function parseJSON(value, fallback) {
    try { return value ? JSON.parse(value) : fallback; } catch (e) { return fallback; }
  }
  function element(tag, className, content) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (content !== undefined && content !== null) { el.textContent = String(content); }
    return el;
  }
  function bilingual(arabic, english) {
    // Arabic first, each in its own direction, so a mixed line reads right on a tablet in either language.
    var line = document.createDocumentFragment();
    var ar = element("span", "ar", arabic);
    ar.lang = "ar"; ar.dir = "rtl";
    var en = element("span", "en", english);
    en.lang = "en"; en.dir = "ltr";
    line.appendChild(ar);
    line.appendChild(document.createTextNode(" — "));
    line.appendChild(en);
    return line;
  }
  function showStatus(message, state) {
    statusLine.textContent = "";
    if (message && typeof message === "object") {
      statusLine.appendChild(bilingual(message.ar, message.en));
    } else {
      statusLine.textContent = message || "";
    }
    if (state) { panel.dataset.checkState = state; }
  }

  function chosen(selectId) {
    var select = document.getElementById(selectId);
    return select && select.value ? { deviceId: { exact: select.value } } : true;
  }
  function release() {
    if (!running) { return; }
    if (running.stream) { running.stream.getTracks().forEach(function (t) { t.stop(); }); }
    if (running.pc) { running.pc.close(); }
    running = null;
  }
  function gathered(pc) {
    // The server takes no trickled candidates: the offer goes once gathering is complete (or after 3 s).
    if (pc.iceGatheringState === "complete") { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, GATHER_MS);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }
  function answerOf(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (!response.ok) {
        var error = new Error(body.error || ("HTTP " + response.status));
        error.messages = body.messages;
        throw error;
      }
      return body;
    });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(answerOf);
  }

  function measure(label, value) {
    measureList.appendChild(element("dt", null, label));
    var dd = element("dd", null, value);
    dd.dir = "ltr";
    measureList.appendChild(dd);
  }
  function problemItems(list, problems) {
    list.textContent = "";
    problems.forEach(function (problem) {
      var item = element("li");
      item.dataset.code = problem.code;
      item.appendChild(bilingual(problem.message_ar, problem.message_en));
      list.appendChild(item);
    });
  }
  function verdictText(passed) { return passed ? text("passed", "Passed") : text("failed", "Failed"); }

  function showResult(check) {
    result.hidden = false;
    result.dataset.passed = check.passed ? "1" : "0";
    verdictLine.textContent = verdictText(check.passed);
    verdictLine.className = "verdict " + (check.passed ? "passed" : "failed");
    problemItems(problemList, check.problems || []);
    measureList.textContent = "";
    var m = check.measures || {};
    measure(text("fps", "Frames a second"), m.fps !== undefined && m.fps !== null ? m.fps : "—");
    measure(text("resolution", "Resolution"), m.width ? m.width + "×" + m.height : "—");
    var sound = m.audio_loud_rms_dbfs;
    measure(text("sound", "Sound level (dBFS)"), sound !== undefined && sound !== null ? sound : "—");
    picture.textContent = "";
    if (check.snapshot_url) {
      var snapshot = element("img", "check-snapshot");
      snapshot.id = "room-check-snapshot";
      snapshot.alt = picture.dataset.alt || "";
      snapshot.src = check.snapshot_url;
      picture.appendChild(snapshot);
    }
    panel.dataset.checkState = "done";
  }

  function showEarlier() {
    return getJSON(panel.dataset.checksUrl).then(function (body) {
      earlier.textContent = "";
      if (!body.checks.length) { earlier.appendChild(element("li", "none", text("no-earlier", "No earlier checks today."))); }
      body.checks.forEach(function (check) {
        var item = element("li", check.passed ? "passed" : "failed");
        var at = new Date(check.at);
        var time = element("time", null, at.toLocaleTimeString(panel.dataset.numberLocale || "ar-u-nu-latn", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Riyadh" }));
        time.dateTime = check.at;
        time.dir = "auto"; // set apart by its first letter: an Arabic time ends in ص or م
        item.appendChild(time);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(element("strong", null, verdictText(check.passed)));
        if (check.snapshot_url) {
          item.appendChild(document.createTextNode(" "));
          var link = element("a", null, text("snapshot", "Picture"));
          link.href = check.snapshot_url;
          link.target = "_blank";
          link.rel = "noopener";
          item.appendChild(link);
        }
        if (check.problems.length) {
          var list = element("ul", "check-problems");
          problemItems(list, check.problems);
          item.appendChild(list);
        }
        earlier.appendChild(item);
      });
    }).catch(function (e) { console.warn("earlier checks not read", e); });
  }

  function poll(checkId, seconds) {
    var deadline = Date.now() + (seconds + 30) * 1000;
    return new Promise(function (resolve, reject) {
      function ask() {
        getJSON(panel.dataset.checksUrl + "/" + encodeURIComponent(checkId)).then(function (check) {
          if (check.state === "done") { resolve(check); return; }
          if (Date.now() > deadline) { reject(new Error("the check took too long")); return; }
          setTimeout(ask, POLL_MS);
        }, reject);
      }
      setTimeout(ask, POLL_MS);
    });
  }

  function start() {
    if (running) { return; }
    button.disabled = true;
    result.hidden = true;
    showStatus(text("running", "Checking…"), "running");
    var pc = new RTCPeerConnection({ iceServers: parseJSON(panel.dataset.iceServers, []) });
    running = { pc: pc, stream: null };
    navigator.mediaDevices.getUserMedia({ video: chosen("camera"), audio: chosen("microphone") }).catch(function (e) {
      var error = new Error("devices");
      error.devices = true;
      error.cause = e;
      throw error;
    }).then(function (stream) {
      running.stream = stream;
      stream.getTracks().forEach(function (track) { pc.addTransceiver(track, { direction: "sendonly", streams: [stream] }); });
      return pc.createOffer();
    }).then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () {
      return gathered(pc);
    }).then(function () {
      return fetch(panel.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": panel.dataset.csrfToken },
        body: JSON.stringify({ sdp: pc.localDescription.sdp })
      }).then(answerOf);
    }).then(function (answer) {
      return pc.setRemoteDescription({ type: "answer", sdp: answer.sdp }).then(function () {
        return poll(answer.check_id, answer.seconds || 4);
      });
    }).then(function (check) {
      release();
      showStatus("", "done");
      showResult(check);
      return showEarlier();
    }).catch(function (e) {
      console.warn("pre-call check failed", e);
      release();
      if (e && e.messages) {
        showStatus(e.messages, "error");
      } else if (e && e.devices) {
        showStatus(text("devices-failed", "The camera or microphone could not be opened."), "error");
      } else {
        showStatus(text("error", "The check could not be run."), "error");
      }
    }).then(function () {
      button.disabled = false;
    });
  }

  button.addEventListener("click", start);
  window.addEventListener("pagehide", release);
  showEarlier();
})();
