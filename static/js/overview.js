// Overview: the filter form applies itself on change (Apply stays for no-JS), the charts dim
// while the next page loads, and a chart's readout line shows the hovered bar's numbers.
(function () {
  "use strict";

  function init() {
    var root = document.querySelector("[data-overview]");
    if (!root) return;
    var form = root.querySelector("form[data-autosubmit]");
    if (form) {
      form.addEventListener("change", function () {
        root.classList.add("is-loading");
        form.requestSubmit();
      });
      form.addEventListener("submit", function () { root.classList.add("is-loading"); });
      var apply = form.querySelector("[data-apply]");
      if (apply) apply.hidden = true;
    }
    root.querySelectorAll("[data-chart]").forEach(function (chart) {
      var readout = chart.querySelector("[data-readout]");
      if (!readout) return;
      var idle = readout.textContent;
      chart.addEventListener("mouseover", function (e) {
        var tip = e.target.closest("[data-tip]");
        if (tip) readout.textContent = tip.getAttribute("data-tip");
      });
      chart.addEventListener("mouseleave", function () { readout.textContent = idle; });
    });
    window.addEventListener("pageshow", function () { root.classList.remove("is-loading"); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
