// Small behaviours without inline script (the CSP forbids it).

function isHtmxElement(el) {
  return ["hx-post", "hx-put", "hx-patch", "hx-delete", "hx-get"].some(function (name) {
    return el.hasAttribute(name);
  });
}

// data-confirm on a plain form: ask before it is sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !isHtmxElement(form) && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);

// data-confirm on anything htmx sends (forms included): htmx waits for the answer.
document.addEventListener("htmx:confirm", function (event) {
  var el = event.detail.elt;
  var question = el.getAttribute("data-confirm");
  if (question) {
    event.preventDefault();
    if (window.confirm(question)) { event.detail.issueRequest(true); }
  }
});

// A 422 answer carries the form again with its errors: show it (htmx drops 4xx answers by default).
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Close the organization switcher after a choice.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
    if (!d.contains(event.target)) { d.removeAttribute("open"); }
  });
});
