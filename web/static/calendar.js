// The protocol calendar's Move dialog and drag and drop. A card's "Move" link and a card dropped on a slot both
// open the same dialog: its inside is the server's Move form (?partial=1), which lists only the seats that suit the
// appointment and, for a slot dropped on, either chooses it or says why it cannot take it. Nothing moves until the
// form is sent with a reason; without JavaScript the "Move" link is the same form as a page of its own.
(function () {
  "use strict";
  var dialog = document.getElementById("move-dialog");
  var body = document.getElementById("move-body");
  if (!dialog || !body || typeof dialog.showModal !== "function") {
    return;
  }
  var opener = null;

  function open(url, from) {
    opener = from;
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "partial=1", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        body.innerHTML = html;
        var back = body.querySelector("[data-close]");
        if (back) {
          back.addEventListener("click", function (event) {
            event.preventDefault();
            dialog.close();
          });
        }
        dialog.showModal();
        var first = body.querySelector("select, input:not([type=hidden])");
        if (first) {
          first.focus();
        }
      })
      .catch(function () {
        window.location.href = url; // the page of its own still works
      });
  }

  dialog.addEventListener("close", function () {
    body.innerHTML = "";
    if (opener && document.body.contains(opener)) {
      opener.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".appointment-card a.move");
    if (link) {
      event.preventDefault();
      open(link.getAttribute("href"), link);
    }
  });

  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".appointment-card[data-move]");
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });
  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("dragging");
    }
    document.querySelectorAll(".slot.drop-over").forEach(function (cell) {
      cell.classList.remove("drop-over");
    });
  });

  function target(event) {
    return dragged && event.target.closest ? event.target.closest("td.slot[data-drop]") : null;
  }
  document.addEventListener("dragover", function (event) {
    var cell = target(event);
    if (cell) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cell.classList.add("drop-over");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var cell = target(event);
    if (cell) {
      cell.classList.remove("drop-over");
    }
  });
  document.addEventListener("drop", function (event) {
    var cell = target(event);
    if (!cell) {
      return;
    }
    event.preventDefault();
    cell.classList.remove("drop-over");
    var card = dragged;
    dragged = null;
    open(card.getAttribute("data-move") + "?to_slot=" + encodeURIComponent(cell.getAttribute("data-slot")), card.querySelector("a.move") || card);
  });
})();
