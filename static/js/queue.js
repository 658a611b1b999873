// Review queues at keyboard speed: 1-9 pick a value of the current rubric item, j/k move between
// items, Enter submits (htmx swaps in the next step, reserved in the same request), s skips,
// u undoes, d shows the diff with the previous step of the run. And, on the step list,
// "Send to queue…" for the selected rows.
//
// This listener runs in the capture phase and marks what it handles with preventDefault, so
// review.js (the list's and step page's keys, which skips handled events) never sees those keys.
(function () {
  "use strict";

  function toast(message) { if (window.dashboardToast) window.dashboardToast(message, 2600); }
  function work() { return document.querySelector("[data-review-work]"); }
  function form() { return document.getElementById("rubric-form"); }
  function items() { return Array.prototype.slice.call(document.querySelectorAll("#rubric-form [data-item]")); }
  function active() { return document.querySelector("#rubric-form [data-item].is-active"); }

  function typing(target) {
    return target.closest && target.closest("input[type=text], input[type=search], textarea, select, [contenteditable=''], [contenteditable=true]");
  }

  function activate(fieldset, focusText) {
    items().forEach(function (f) { f.classList.toggle("is-active", f === fieldset); });
    if (!fieldset) return;
    fieldset.scrollIntoView({ block: "nearest" });
    var text = fieldset.querySelector("textarea");
    if (text && focusText) text.focus();
  }

  function move(step) {
    var all = items();
    if (!all.length) return;
    var index = all.indexOf(active());
    var next = Math.max(0, Math.min(all.length - 1, index + step));
    activate(all[next], false);  // a text item is typed into after a number key or Tab
  }

  function answered(fieldset) {
    var text = fieldset.querySelector("textarea");
    if (text) return text.value.trim() !== "";
    return !!fieldset.querySelector("input[type=radio]:checked");
  }

  // 1-9: the value with that key in the current item; a text item takes the focus instead
  function pick(key) {
    var fieldset = active() || items()[0];
    if (!fieldset) return;
    if (fieldset.querySelector("textarea")) { activate(fieldset, true); return; }
    var kbd = Array.prototype.slice.call(fieldset.querySelectorAll(".ri-choice kbd")).filter(function (k) { return k.textContent === key; })[0];
    if (!kbd) { toast("“" + fieldset.dataset.label + "” has no value " + key + "."); return; }
    var radio = kbd.closest("label").querySelector("input[type=radio]");
    radio.checked = true;
    fieldset.classList.remove("is-missing");
    // on to the next item, so a rubric is answered key after key (the last item stays)
    var all = items();
    var index = all.indexOf(fieldset);
    if (index < all.length - 1) activate(all[index + 1], false);
  }

  // --- submitting, and how long the next step takes to show --------------------------------

  var enterAt = null;
  window.reviewTimings = window.reviewTimings || [];

  function submit() {
    var f = form();
    if (!f) return;
    var missing = items().filter(function (fs) { return fs.hasAttribute("data-required") && !answered(fs); });
    items().forEach(function (fs) { fs.classList.toggle("is-missing", missing.indexOf(fs) >= 0); });
    if (missing.length) {
      activate(missing[0], true);
      toast("Answer “" + missing[0].dataset.label + "” first.");
      return;
    }
    enterAt = performance.now();
    f.requestSubmit(f.querySelector("[data-submit]"));
  }

  function press(selector, otherwise) {
    var button = document.querySelector(selector);
    if (button) { enterAt = performance.now(); button.click(); } else if (otherwise) toast(otherwise);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "work") return;
    window.scrollTo(0, 0);
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    if (enterAt === null) return;
    var started = enterAt;
    enterAt = null;
    // after the next frame: the new step is on screen, not only in the document
    requestAnimationFrame(function () {
      var ms = Math.round(performance.now() - started);
      window.reviewTimings.push(ms);
      document.body.dataset.lastEnterToNextMs = String(ms);
    });
  });
  // the server moved us on and says why (the step was taken meanwhile)
  document.addEventListener("reviewNotice", function (event) { toast(event.detail.message); });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("#work")) enterAt = null;
  });

  // --- the diff with the previous step of the run ------------------------------------------

  function toggleDiff() {
    var panel = document.getElementById("diff-panel");
    if (!panel) { toast("A pair shows its diff below the two steps."); return; }
    if (!panel.hidden) { panel.hidden = true; return; }
    panel.hidden = false;
    if (!panel.dataset.loaded && window.htmx) {
      panel.dataset.loaded = "1";
      panel.innerHTML = '<div class="card muted small">Loading the diff…</div>';
      htmx.ajax("GET", panel.dataset.diffUrl, { target: panel, swap: "innerHTML" });
    }
    panel.scrollIntoView({ block: "start" });
  }

  function showKeys(show) {
    var overlay = document.getElementById("review-keys");
    if (overlay) overlay.hidden = !show;
  }

  document.addEventListener("keydown", function (event) {
    if (!work() || event.altKey || event.defaultPrevented) return;
    var key = event.key;
    var overlay = document.getElementById("review-keys");
    if (key === "Escape") {
      if (overlay && !overlay.hidden) { showKeys(false); event.preventDefault(); return; }
      if (typing(event.target)) { event.target.blur(); event.preventDefault(); }
      return;
    }
    if (typing(event.target)) {
      // a text answer takes Enter as a new line; Ctrl/Cmd+Enter submits from it
      if (key === "Enter" && (event.ctrlKey || event.metaKey) && form()) { event.preventDefault(); submit(); }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (key === "Enter" && event.target.closest && event.target.closest("a, button:not([data-submit])")) return;
    var handled = true;
    if (/^[1-9]$/.test(key) && form()) pick(key);
    else if ((key === "j" || key === "ArrowDown") && form()) move(1);
    else if ((key === "k" || key === "ArrowUp") && form()) move(-1);
    else if (key === "Enter" && form()) submit();
    else if (key === "s" && form()) press("[data-key-skip]");
    else if (key === "u") press("[data-key-undo]", "Nothing to undo: your last review here is done or there is none.");
    else if (key === "d" && form()) toggleDiff();
    else if (key === "?") showKeys(!overlay || overlay.hidden);
    else handled = false;
    if (handled) { event.preventDefault(); event.stopPropagation(); }
  }, true);

  document.addEventListener("click", function (event) {
    var fieldset = event.target.closest && event.target.closest("#rubric-form [data-item]");
    if (fieldset) { fieldset.classList.remove("is-missing"); if (!fieldset.classList.contains("is-active")) activate(fieldset, false); }
    if (event.target.closest("[data-key-diff]")) { event.preventDefault(); toggleDiff(); return; }
    if (event.target.closest("[data-review-keys]")) { showKeys(true); return; }
    if (event.target.closest("[data-close-review-keys]") || event.target.id === "review-keys") { showKeys(false); return; }
    var send = event.target.closest("[data-queue-selected]");
    if (send) { event.preventDefault(); sendSelection(send); }
  });
  // the radio's own click (mouse) also moves the focus on
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches("#rubric-form input[type=radio]")) return;
    radio.closest("[data-item]").classList.remove("is-missing");
  });

  // --- the step list: "Send to queue…" with the selected rows -------------------------------

  // The bulk bar's selection is sent as a plain form POST (a page, not an htmx swap): the
  // create form then shows what was selected. "All matching" sends the filter instead.
  function sendSelection(button) {
    var bulk = document.getElementById("bulk-form");
    if (!bulk) return;
    var all = bulk.elements.scope && bulk.elements.scope.value === "all";
    var query = bulk.elements.query ? bulk.elements.query.value : "";
    if (all) { window.location.href = button.dataset.queueUrl + (query ? "?query=" + encodeURIComponent(query) : ""); return; }
    var ids = Array.prototype.slice.call(document.querySelectorAll("input.row-check:checked")).map(function (c) { return c.value; });
    if (!ids.length) { toast("Select steps first, or use “Send to queue…” above the list for the whole filter."); return; }
    var post = document.createElement("form");
    post.method = "post";
    post.action = button.dataset.queueUrl;
    post.hidden = true;
    function field(name, value) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value;
      post.appendChild(input);
    }
    field("csrfmiddlewaretoken", bulk.elements.csrfmiddlewaretoken.value);
    field("stage", "select");
    field("query", query);
    ids.forEach(function (id) { field("step_ids", id); });
    document.body.appendChild(post);
    post.submit();
  }

  // --- the create form: show the fields of the chosen kind and access -----------------------

  function syncQueueForm() {
    var f = document.querySelector("form.q-form");
    if (!f) return;
    var kind = f.querySelector("input[name=kind]:checked");
    var pairwise = kind && kind.value === "pairwise";
    f.querySelectorAll(".q-kind-pairwise").forEach(function (el) { el.hidden = !pairwise; });
    f.querySelectorAll(".q-kind-single").forEach(function (el) { el.hidden = pairwise; });
    var access = f.querySelector("input[name=access]:checked");
    f.querySelectorAll(".q-assigned").forEach(function (el) { el.hidden = !access || access.value !== "assigned"; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("[data-queue-form], form.q-form")) syncQueueForm();
  });
  document.addEventListener("DOMContentLoaded", syncQueueForm);
})();
