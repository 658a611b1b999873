// The rubric editor: show the choices box and the help that match each item's kind. Without this
// script everything is shown and the form works the same (the server ignores unused choices).
(function () {
  "use strict";
  function sync(item) {
    var kind = item.querySelector("[data-kind]").value;
    var choices = item.querySelector("[data-choices]");
    var label = item.querySelector("[data-choices-label]");
    choices.hidden = kind !== "categorical" && kind !== "scale";
    if (label && label.firstChild) {
      label.firstChild.textContent = kind === "scale" ? "Points, lowest first: “1 = wrong” " : "Labels, one per line ";
    }
    item.querySelectorAll("[data-help-for]").forEach(function (help) {
      help.hidden = help.getAttribute("data-help-for") !== kind;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rubric-editor] [data-item]").forEach(function (item) {
      sync(item);
      item.querySelector("[data-kind]").addEventListener("change", function () { sync(item); });
    });
  });
})();
