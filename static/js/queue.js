// Studio queue: drag a queued post onto another one to give it that place (HTML5 drag and drop).
// The Move up / Move down buttons do the same from the keyboard; the server re-slots the times.
(function () {
  var list = document.querySelector("ol.queue[data-reorder]");
  if (!list) { return; }
  var dragged = null;
  function item(event) {
    return event.target.closest ? event.target.closest("li[data-position-url]") : null;
  }
  function clear() {
    list.querySelectorAll(".queue-drop").forEach(function (li) { li.classList.remove("queue-drop"); });
  }
  list.addEventListener("dragstart", function (event) {
    var li = item(event);
    if (!li) { return; }
    dragged = li;
    li.classList.add("queue-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.id);
  });
  list.addEventListener("dragover", function (event) {
    var li = item(event);
    if (!li || !dragged) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clear();
    if (li !== dragged) { li.classList.add("queue-drop"); }
  });
  list.addEventListener("dragleave", function (event) {
    var li = item(event);
    if (li) { li.classList.remove("queue-drop"); }
  });
  list.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("queue-dragging"); }
    dragged = null;
    clear();
  });
  list.addEventListener("drop", function (event) {
    var li = item(event);
    if (!li || !dragged) { return; }
    event.preventDefault();
    clear();
    var source = dragged;
    dragged = null;
    source.classList.remove("queue-dragging");
    if (li === source) { return; }
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-position-url]"));
    var position = items.indexOf(li) + 1;
    // htmx sends the CSRF header from <body hx-headers>; the answer redirects to the reordered queue.
    window.htmx.ajax("POST", source.getAttribute("data-position-url"), {
      source: source, values: { position: String(position) }
    });
  });
})();
