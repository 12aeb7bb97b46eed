// Keyboard use of lists: j/k (or arrows) move between rows, Enter opens, c logs a call.
// External file only: the CSP forbids inline scripts.
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function current() { return document.querySelector("tr[data-row].selected"); }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.setAttribute("tabindex", "-1");
    row.focus();
  }
  function go(url) { window.location.assign(url); }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.ctrlKey || event.metaKey || event.altKey || tag === "input" || tag === "textarea" || tag === "select") { return; }
    var list = rows();
    if (!list.length) { return; }
    var row = current();
    var index = row ? list.indexOf(row) : -1;
    if (event.key === "j" || event.key === "ArrowDown") { select(list[Math.min(index + 1, list.length - 1)]); event.preventDefault(); }
    else if (event.key === "k" || event.key === "ArrowUp") { select(list[Math.max(index - 1, 0)]); event.preventDefault(); }
    else if (event.key === "c") { go((row || list[0]).getAttribute("data-log")); event.preventDefault(); }
    else if (event.key === "Enter" && row && event.target === row) { go(row.getAttribute("data-open")); event.preventDefault(); }
  });
})();
