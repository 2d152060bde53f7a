// A date picker of both calendars for every <input data-date-picker>: a button beside the field opens a month grid
// (a modal <dialog>) of the Umm al-Qura or the Gregorian calendar, each day showing its number in both; choosing a
// day writes its Gregorian ISO date in the field and shows the day in both calendars beside it.
// The months come from GET /api/v1/calendar/month, the server's own Umm al-Qura table (hijridate), so the picker
// never disagrees by a day with the server that reads the field. Without JavaScript the field still takes a date
// typed in either calendar (majlis.hijri.read_day).
// Keyboard: arrows move by a day (right to left on an Arabic page) or a week, Home/End to the week's ends,
// Page Up/Down by a month, Enter or Space chooses, Escape closes; focus returns to the button that opened it.
// The texts come from the script tag, already translated (data-open, data-previous, data-next, data-hijri,
// data-gregorian, data-close, data-calendar).
(function () {
  "use strict";
  var script = document.currentScript;
  var text = function (name) { return (script && script.getAttribute("data-" + name)) || name; };
  var api = (script && script.getAttribute("data-api")) || "/api/v1/calendar/month";
  var rtl = document.documentElement.dir === "rtl";
  var shownCalendar = "hijri"; // kept while the page is open: the calendar last looked at
  var dialog, title, otherTitle, grid, head, body, previous, next, switches = {};
  var field = null; // the input being filled
  var opener = null; // the button that opened the dialog
  var month = null; // the month shown, as the server gave it

  function load(query) {
    return fetch(api + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .catch(function () { return null; });
  }

  function button(className, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    return b;
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "date-picker";
    dialog.setAttribute("aria-labelledby", "date-picker-title");
    var top = document.createElement("div");
    top.className = "date-picker-top";
    title = document.createElement("h2");
    title.id = "date-picker-title";
    title.setAttribute("aria-live", "polite");
    otherTitle = document.createElement("p");
    otherTitle.className = "date-picker-other";
    top.appendChild(title);
    top.appendChild(otherTitle);
    var bar = document.createElement("div");
    bar.className = "date-picker-bar";
    previous = button("date-picker-previous", text("previous"));
    next = button("date-picker-next", text("next"));
    var group = document.createElement("div");
    group.className = "date-picker-switch";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", text("calendar"));
    ["hijri", "gregorian"].forEach(function (calendar) {
      var b = button("date-picker-calendar", text(calendar));
      b.setAttribute("data-calendar", calendar);
      b.addEventListener("click", function () { switchTo(calendar); });
      switches[calendar] = b;
      group.appendChild(b);
    });
    bar.appendChild(previous);
    bar.appendChild(group);
    bar.appendChild(next);
    grid = document.createElement("table");
    grid.setAttribute("role", "grid");
    grid.setAttribute("aria-labelledby", "date-picker-title");
    grid.className = "date-picker-grid";
    head = document.createElement("thead");
    body = document.createElement("tbody");
    grid.appendChild(head);
    grid.appendChild(body);
    var close = button("date-picker-close", text("close"));
    dialog.appendChild(top);
    dialog.appendChild(bar);
    dialog.appendChild(grid);
    dialog.appendChild(close);
    document.body.appendChild(dialog);
    previous.addEventListener("click", function () { step("previous"); });
    next.addEventListener("click", function () { step("next"); });
    close.addEventListener("click", function () { finish(); });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(); });
    body.addEventListener("click", function (event) {
      var day = event.target.closest("button[data-iso]");
      if (day) { choose(day); }
    });
    body.addEventListener("keydown", keys);
  }

  function show(answer, focusIso) {
    if (!answer) { return; }
    month = answer;
    shownCalendar = answer.calendar;
    title.textContent = answer.title;
    otherTitle.textContent = answer.other_title;
    Object.keys(switches).forEach(function (calendar) {
      switches[calendar].setAttribute("aria-pressed", calendar === answer.calendar ? "true" : "false");
    });
    previous.disabled = !answer.previous;
    next.disabled = !answer.next;
    head.textContent = "";
    var row = document.createElement("tr");
    answer.weekdays.forEach(function (weekday) {
      var th = document.createElement("th");
      th.scope = "col";
      th.abbr = weekday.name;
      th.textContent = weekday.short;
      row.appendChild(th);
    });
    head.appendChild(row);
    body.textContent = "";
    row = null;
    var chosen = field && field.getAttribute("data-date-picker-iso");
    var target = focusIso || chosen || answer.today;
    var found = answer.days.some(function (day) { return day.iso === target; });
    if (!found) { target = answer.days[0].iso; }
    answer.days.forEach(function (day, index) {
      if (!row || day.column === 0) {
        row = document.createElement("tr");
        body.appendChild(row);
        if (index === 0) {
          for (var blank = 0; blank < day.column; blank += 1) { row.appendChild(document.createElement("td")); }
        }
      }
      var cell = document.createElement("td");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "date-picker-day";
      b.setAttribute("data-iso", day.iso);
      b.tabIndex = day.iso === target ? 0 : -1;
      if (day.iso === answer.today) { b.setAttribute("aria-current", "date"); }
      if (day.iso === chosen) { b.setAttribute("aria-pressed", "true"); }
      var main = document.createElement("span");
      main.className = "date-picker-main";
      main.textContent = answer.calendar === "hijri" ? day.hijri_day : day.gregorian_day;
      var other = document.createElement("span");
      other.className = "date-picker-second";
      other.textContent = answer.calendar === "hijri" ? day.gregorian_day : day.hijri_day;
      // The day's name is its date in words in both calendars; the two bare numbers are what the eye reads.
      var name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = day.label;
      main.setAttribute("aria-hidden", "true");
      other.setAttribute("aria-hidden", "true");
      b.appendChild(name);
      b.appendChild(main);
      b.appendChild(other);
      cell.appendChild(b);
      row.appendChild(cell);
    });
    if (focusIso !== undefined) { focusDay(target); }
  }

  function focusDay(iso) {
    var day = body.querySelector('button[data-iso="' + iso + '"]');
    if (!day) { return; }
    body.querySelectorAll("button[data-iso]").forEach(function (b) { b.tabIndex = -1; });
    day.tabIndex = 0;
    day.focus();
  }

  function step(which) {
    var to = month && month[which];
    if (!to) { return; }
    load("calendar=" + shownCalendar + "&year=" + to.year + "&month=" + to.month).then(function (answer) {
      show(answer);
    });
  }

  function switchTo(calendar) {
    var focused = body.querySelector("button[tabindex='0']");
    var around = focused ? focused.getAttribute("data-iso") : month.today;
    load("calendar=" + calendar + "&day=" + around).then(function (answer) {
      show(answer);
      if (answer) { switches[calendar].focus(); }
    });
  }

  function shifted(iso, days) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function moveTo(iso) {
    if (body.querySelector('button[data-iso="' + iso + '"]')) { focusDay(iso); return; }
    load("calendar=" + shownCalendar + "&day=" + iso).then(function (answer) { show(answer, iso); });
  }

  function keys(event) {
    var day = event.target.closest("button[data-iso]");
    if (!day) { return; }
    var iso = day.getAttribute("data-iso");
    var column = day.parentNode.cellIndex;
    var forward = rtl ? "ArrowLeft" : "ArrowRight";
    var back = rtl ? "ArrowRight" : "ArrowLeft";
    var by = { ArrowUp: -7, ArrowDown: 7, Home: -column, End: 6 - column, PageUp: -30, PageDown: 30 };
    by[forward] = 1;
    by[back] = -1;
    if (!(event.key in by)) { return; }
    event.preventDefault();
    if (event.key === "PageUp" || event.key === "PageDown") {
      // A month on in the calendar shown, keeping the day's place as near as the other month allows.
      var which = event.key === "PageUp" ? "previous" : "next";
      var to = month[which];
      if (!to) { return; }
      var place = Array.prototype.indexOf.call(body.querySelectorAll("button[data-iso]"), day);
      load("calendar=" + shownCalendar + "&year=" + to.year + "&month=" + to.month).then(function (answer) {
        if (!answer) { return; }
        show(answer, answer.days[Math.min(place, answer.days.length - 1)].iso);
      });
      return;
    }
    moveTo(shifted(iso, by[event.key]));
  }

  function mark(input, label) {
    var shown = document.getElementById(input.id + "-in-both");
    if (shown) { shown.textContent = label || ""; }
  }

  function choose(day) {
    var iso = day.getAttribute("data-iso");
    field.value = iso;
    field.setAttribute("data-date-picker-iso", iso);
    mark(field, day.querySelector(".visually-hidden").textContent);
    field.dispatchEvent(new Event("change", { bubbles: true }));
    var input = field;
    finish();
    input.focus();
  }

  function finish() {
    if (dialog && dialog.open) { dialog.close(); }
    if (opener) { opener.focus(); }
    opener = null;
  }

  function open(input, b) {
    if (!dialog) { build(); }
    field = input;
    opener = b;
    var typed = input.value.trim();
    var query = "calendar=" + shownCalendar + (typed ? "&day=" + encodeURIComponent(typed) : "");
    load(query).then(function (answer) {
      // A field holding something the server cannot read opens on today's month.
      return answer || load("calendar=" + shownCalendar);
    }).then(function (answer) {
      if (!answer) { return; }
      show(answer);
      dialog.showModal();
      var focusIso = (answer.asked && answer.days.some(function (d) { return d.iso === answer.asked; })) ? answer.asked : null;
      focusDay(focusIso || body.querySelector("button[tabindex='0']").getAttribute("data-iso"));
    });
  }

  function describe(input) {
    // The typed day in both calendars beside the field (nothing when it cannot be read: the server names why).
    var typed = input.value.trim();
    if (!typed) { mark(input, ""); input.removeAttribute("data-date-picker-iso"); return; }
    load("calendar=gregorian&day=" + encodeURIComponent(typed)).then(function (answer) {
      var day = answer && answer.days.filter(function (d) { return d.iso === answer.asked; })[0];
      if (day) { input.setAttribute("data-date-picker-iso", day.iso); } else { input.removeAttribute("data-date-picker-iso"); }
      mark(input, day ? day.label : "");
    });
  }

  function enhance(input) {
    if (!input.id) { return; }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "date-picker-open";
    b.setAttribute("aria-haspopup", "dialog");
    // The field's own label names the button too, where a page has more than one date (From, To).
    var label = input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "";
    b.setAttribute("aria-label", label ? text("open") + ": " + label : text("open"));
    b.innerHTML = '<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="20" height="20">' +
      '<rect x="3" y="5" width="18" height="16" rx="2" fill="none" stroke="currentColor" stroke-width="2"/>' +
      '<path d="M3 10h18M8 3v4M16 3v4" stroke="currentColor" stroke-width="2"/></svg>';
    var shown = document.createElement("span");
    shown.className = "date-picker-shown";
    shown.id = input.id + "-in-both";
    shown.setAttribute("aria-live", "polite");
    var around = input.closest("label");
    if (around) {
      // A field inside its label (the report filters): the button after the label, so that the field's name stays
      // its label's words alone.
      around.parentNode.insertBefore(b, around.nextSibling);
      b.parentNode.insertBefore(shown, b.nextSibling);
    } else {
      var holder = document.createElement("span");
      holder.className = "date-picker-field";
      input.parentNode.insertBefore(holder, input);
      holder.appendChild(input);
      holder.appendChild(b);
      holder.parentNode.insertBefore(shown, holder.nextSibling);
    }
    b.addEventListener("click", function () { open(input, b); });
    input.addEventListener("change", function (event) {
      if (event.isTrusted) { describe(input); }
    });
    if (input.value.trim()) { describe(input); }
  }

  function start() {
    document.querySelectorAll("input[data-date-picker]").forEach(enhance);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
