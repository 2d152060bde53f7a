/* The room screen facing the applicant: no controls. The room console opens this window and
   hands it the official's picture and the room's own camera (both windows share one origin). */
(function () {
  "use strict";
  var waiting = document.getElementById("screen-waiting");
  var call = document.getElementById("screen-call");
  var official = document.getElementById("screen-official");
  var self = document.getElementById("screen-self");
  if (!waiting || !call) { return; }

  function play(video) {
    var played = video.play();
    if (played && played.catch) { played.catch(function () {}); }
  }

  var recordingNote = document.getElementById("screen-recording");
  window.majlisScreen = {
    // The applicant sees for herself when her audience is being recorded.
    recording: function (on) {
      if (recordingNote) { recordingNote.hidden = !on; }
      document.body.dataset.recording = on ? "1" : "0";
    },
    show: function (remote, local) {
      if (official.srcObject !== remote) { official.srcObject = remote; play(official); }
      if (local && self.srcObject !== local) { self.srcObject = local; play(self); }
      waiting.hidden = true;
      call.hidden = false;
      document.body.dataset.screen = "call";
    },
    wait: function () {
      official.srcObject = null;
      call.hidden = true;
      waiting.hidden = false;
      document.body.dataset.screen = "waiting";
    }
  };
  // Opened (or reloaded) from the console: tell it we are here.
  try {
    if (window.opener && window.opener.majlisVideo) { window.opener.majlisVideo.attachScreen(window); }
  } catch (e) { /* another origin opened us: stay on the waiting screen */ }
})();
