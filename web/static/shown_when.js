// Shows a block of a form only while a choice of the same form has a value: data-shown-when="name=value".
// Hidden blocks are disabled too, so nothing ticked in them is sent. Without JavaScript every block shows,
// and the server ignores what the choice does not use.
(function () {
  "use strict";
  function follow(block) {
    var rule = block.getAttribute("data-shown-when").split("=");
    var form = block.closest("form");
    var choice = form && form.elements.namedItem(rule[0]);
    if (!choice || typeof choice.value !== "string") { return; }
    function update() {
      var shown = choice.value === rule[1];
      block.hidden = !shown;
      block.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = !shown; });
    }
    choice.addEventListener("change", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-shown-when]").forEach(follow);
  });
})();
