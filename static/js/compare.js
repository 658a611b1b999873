// Comparing: the list's Compare button and `c` key (exactly two selected rows), `c` on a step page,
// and the compare page's trace pickers. Self-contained: review.js owns selection; this only reads it.
(function () {
  "use strict";

  function selectedRows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.step-row")).filter(function (row) {
      var box = row.querySelector("input.row-check");
      return box && box.checked;
    });
  }

  function button() { return document.querySelector("[data-compare-selected]"); }

  function refresh() {
    var btn = button();
    if (!btn) return;
    var n = selectedRows().length;
    btn.disabled = n !== 2;
    btn.title = n === 2 ? "Compare the two selected steps (c)" : "Select exactly two steps to compare (c)";
  }

  function compareSelected() {
    var rows = selectedRows();
    var btn = button();
    if (rows.length !== 2 || !btn) {
      if (window.dashboardToast) window.dashboardToast("Select exactly two steps to compare.", 2600);
      return;
    }
    // A is the earlier step, B the later one, whatever order the list is sorted in: the server
    // orders them (steps of one run share a time to the millisecond the page shows)
    var query = "?a=" + encodeURIComponent(rows[0].dataset.step) + "&b=" + encodeURIComponent(rows[1].dataset.step) + "&order=time";
    window.location.href = btn.dataset.compareUrl + query;
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-compare-selected]")) { event.preventDefault(); compareSelected(); return; }
    // review.js updates the selection on the same click; read it once that has run
    if (event.target.closest("input.row-check, input.page-check, [data-bulk-cancel], [data-select-matching]")) {
      setTimeout(refresh, 0);
    }
  });
  document.addEventListener("htmx:afterSwap", function () { setTimeout(refresh, 0); });
  document.addEventListener("htmx:afterRequest", function () { setTimeout(refresh, 0); });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "c" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    // a focused row checkbox (just clicked) is not typing; a text field is
    var field = target.closest && target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
    if (field && !(field.type === "checkbox" || field.type === "radio")) return;
    if (document.getElementById("step-rows")) {
      event.preventDefault();
      compareSelected();
      return;
    }
    var link = document.querySelector("[data-key-compare]");
    if (link && link.href) { event.preventDefault(); window.location.href = link.href; }
  });

  // the trace pickers on the compare page apply on change
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  document.addEventListener("DOMContentLoaded", refresh);
})();
