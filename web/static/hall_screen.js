// The hall's screen: asks for the numbers every 3 seconds and shows them; names never come here.
"use strict";
(function () {
  const source = document.body.dataset.source;
  async function refresh() {
    try {
      const answer = await fetch(source, { cache: "no-store" });
      if (!answer.ok) return;
      const data = await answer.json();
      for (const s of data.sessions) {
        const serving = document.getElementById("serving-" + s.session);
        const next = document.getElementById("next-" + s.session);
        if (!serving || !next) { window.location.reload(); return; }
        serving.textContent = s.serving === null ? "—" : String(s.serving);
        // Nobody before the official: a quiet dash, not a number-sized bar across the hall.
        serving.classList.toggle("idle", s.serving === null);
        next.textContent = s.waiting.slice(0, 6).join("  ");
      }
    } catch (e) {
      // The network blinked; the next round tries again.
    }
  }
  setInterval(refresh, 3000);
})();
