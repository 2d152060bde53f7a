// The kiosk's check-in result: the number stays on the screen for a while, then the kiosk is ready for the next
// applicant. A script rather than <meta http-equiv=refresh>: any touch or key starts the wait again, so whoever is
// still reading keeps the screen (WCAG 2.2.1, which axe's meta-refresh rule stands for); "Done" returns at once.
"use strict";
(function () {
  const result = document.getElementById("kiosk-result");
  if (!result) return;
  const seconds = Number(result.dataset.idleAfter || "30");
  let timer = 0;
  function wait() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { window.location.replace("/kiosk"); }, seconds * 1000);
  }
  for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, wait);
  wait();
})();
