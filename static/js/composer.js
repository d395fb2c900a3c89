// Studio composer: live character and hashtag counts per platform, counted the way each platform
// counts (TikTok in UTF-16 code units, Instagram in characters, YouTube descriptions in bytes).
// The server checks the same limits; this only shows them while typing.
(function () {
  function value(selector) {
    var el = selector ? document.querySelector(selector) : null;
    return el ? el.value : "";
  }
  function tags(text) {
    var seen = {}, out = [];
    (text || "").split(/[\s,]+/).forEach(function (raw) {
      var tag = raw.replace(/^#+/, "");
      if (tag && !seen[tag.toLowerCase()]) { seen[tag.toLowerCase()] = true; out.push(tag); }
    });
    return out;
  }
  function groupTags() {
    var select = document.getElementById("hashtag_group");
    if (!select || !select.value) { return []; }
    return tags(select.options[select.selectedIndex].getAttribute("data-tags") || "");
  }
  function measure(text, unit) {
    if (unit === "bytes") { return new TextEncoder().encode(text).length; }
    if (unit === "chars") { return Array.from(text).length; }
    return text.length;
  }
  function countTags(text) {
    var found = text.match(/#[\p{L}\p{N}_]+/gu);
    return found ? found.length : 0;
  }
  function update() {
    document.querySelectorAll("[data-counter]").forEach(function (out) {
      var d = out.dataset, text, hashtags = 0;
      if (d.counter === "caption") {
        var caption = value(d.caption).trim() || value("#caption");
        var own = tags(value(d.hashtags));
        var list = own.length ? own : tags(tags(value("#hashtags")).concat(groupTags()).join(" "));
        var joined = list.map(function (t) { return "#" + t; }).join(" ");
        text = joined ? (caption + "\n\n" + joined).trim() : caption;
      } else {
        text = value(d.source);
      }
      hashtags = countTags(text);
      var n = measure(text, d.unit || "chars"), limit = parseInt(d.limit, 10);
      var tagLimit = d.tagLimit ? parseInt(d.tagLimit, 10) : 0;
      var words = (d.unit === "bytes" ? " bytes" : " characters");
      out.textContent = n.toLocaleString() + " / " + limit.toLocaleString() + words +
        (tagLimit ? " · " + hashtags + " / " + tagLimit + " hashtags" : "");
      out.classList.toggle("counter-over", n > limit || (tagLimit > 0 && hashtags > tagLimit));
    });
  }
  document.addEventListener("input", update);
  document.addEventListener("change", update);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
