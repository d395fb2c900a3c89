// Small behaviours without inline script (the CSP forbids it).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);

document.addEventListener("htmx:confirm", function (event) {
  var el = event.detail.elt;
  var question = el.getAttribute("data-confirm");
  if (question && el.tagName !== "FORM") {
    event.preventDefault();
    if (window.confirm(question)) { event.detail.issueRequest(true); }
  }
});

// Close the organization switcher after a choice.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
    if (!d.contains(event.target)) { d.removeAttribute("open"); }
  });
});
