// The desk tablet's rating screen: asks every 3 seconds which visit waits here and reloads when it changes
// (a new visit, or one taken off); after a thank-you it returns to the welcome after a few seconds.
"use strict";
(function () {
  const main = document.querySelector("main.rate-tablet");
  if (!main) return;
  const shown = main.dataset.shown || "";
  const thanks = document.getElementById("rate-thanks");
  if (thanks) {
    const seconds = Number(thanks.dataset.idleAfter || "8");
    setTimeout(function () { window.location.replace("/rate-tablet"); }, seconds * 1000);
  }
  async function refresh() {
    try {
      const answer = await fetch(main.dataset.pending, { cache: "no-store", credentials: "same-origin" });
      if (!answer.ok) return;
      const data = await answer.json();
      const waiting = data.invite === null ? "" : String(data.invite);
      // Someone typing a comment keeps the screen; only a different visit (or none) replaces it.
      if (waiting !== shown && !thanks) window.location.replace("/rate-tablet");
    } catch (e) {
      // The network blinked; the next round tries again.
    }
  }
  setInterval(refresh, 3000);
})();
