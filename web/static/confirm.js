// Asks before an irreversible action: a form marked <form data-confirm="question"> opens a modal dialog on submit
// and is sent only when the action is confirmed there. The texts come from the page, already translated:
// data-confirm (the question, the dialog's accessible name), data-confirm-yes (the action's own words; by default
// the pressed button's), data-confirm-no (by default the script tag's data-no, "No, go back").
// Focus goes to "go back" (the safe answer), Escape goes back too, and focus returns to the button pressed.
// Without JavaScript the form is sent as it is: every such action is a POST with its CSRF token all the same.
(function () {
  "use strict";
  var script = document.currentScript;
  var defaultNo = (script && script.getAttribute("data-no")) || "No";
  var dialog = null;
  var question = null;
  var yes = null;
  var no = null;
  var pending = null; // {form, submitter} while the dialog is open

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("role", "alertdialog");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-question");
    question = document.createElement("p");
    question.id = "confirm-dialog-question";
    question.className = "confirm-question";
    var buttons = document.createElement("div");
    buttons.className = "confirm-buttons";
    yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger confirm-yes";
    no = document.createElement("button");
    no.type = "button";
    no.className = "confirm-no";
    buttons.appendChild(yes);
    buttons.appendChild(no);
    dialog.appendChild(question);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    yes.addEventListener("click", function () { finish(true); });
    no.addEventListener("click", function () { finish(false); });
    // Escape fires "cancel" on a modal dialog: the same as "go back".
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(false); });
  }

  function labelOf(submitter) {
    if (!submitter) { return ""; }
    return (submitter.value && submitter.tagName === "INPUT" ? submitter.value : submitter.textContent).trim();
  }

  function ask(form, submitter) {
    if (!dialog) { build(); }
    pending = { form: form, submitter: submitter };
    question.textContent = form.getAttribute("data-confirm");
    yes.textContent = form.getAttribute("data-confirm-yes") || labelOf(submitter) || "OK";
    no.textContent = form.getAttribute("data-confirm-no") || defaultNo;
    dialog.showModal();
    no.focus();
  }

  function finish(confirmed) {
    var asked = pending;
    pending = null;
    dialog.close();
    if (!asked) { return; }
    if (asked.submitter) { asked.submitter.focus(); }
    if (!confirmed) { return; }
    asked.form.setAttribute("data-confirmed", "");
    if (typeof asked.form.requestSubmit === "function") {
      asked.form.requestSubmit(asked.submitter || undefined);
    } else {
      asked.form.submit();
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (form.hasAttribute("data-confirmed")) {
      form.removeAttribute("data-confirmed"); // asked once for this submission only
      return;
    }
    if (typeof HTMLDialogElement !== "function") { return; } // no dialog in this browser: the server's safety holds
    event.preventDefault();
    ask(form, event.submitter || null);
  });
})();
