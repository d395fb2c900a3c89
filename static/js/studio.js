// Studio calendar: drag a scheduled post onto another day to move it (same time of day).
(function () {
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var chip = event.target.closest && event.target.closest("[data-move-url]");
    if (!chip) { return; }
    dragged = chip;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", chip.getAttribute("data-move-url"));
  });
  document.addEventListener("dragover", function (event) {
    var day = event.target.closest && event.target.closest("[data-day]");
    if (day && dragged) { event.preventDefault(); day.classList.add("cal-drop"); }
  });
  document.addEventListener("dragleave", function (event) {
    var day = event.target.closest && event.target.closest("[data-day]");
    if (day) { day.classList.remove("cal-drop"); }
  });
  document.addEventListener("drop", function (event) {
    var day = event.target.closest && event.target.closest("[data-day]");
    if (!day || !dragged) { return; }
    event.preventDefault();
    day.classList.remove("cal-drop");
    var url = dragged.getAttribute("data-move-url");
    dragged = null;
    // htmx sends the CSRF header from <body hx-headers>; the answer is the refreshed calendar.
    window.htmx.ajax("POST", url + window.location.search, {
      source: day, target: "#calendar", swap: "outerHTML", values: { day: day.getAttribute("data-day") }
    });
  });
})();
