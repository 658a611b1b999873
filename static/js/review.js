// Review at keyboard speed: row focus, votes, selection for bulk actions, the shortcuts overlay.
// The server stays the source of truth: every vote is an htmx request that answers with the
// widget as saved; the only optimistic touch is marking the pressed button before it answers.
(function () {
  "use strict";

  var focused = -1;     // index of the keyboard-focused list row
  var lastChecked = -1; // anchor row of a shift-click range
  var pagedByKey = false; // the table being swapped in was asked for with n / p

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.step-row")); }
  function checks() { return Array.prototype.slice.call(document.querySelectorAll("input.row-check")); }
  function bulkForm() { return document.getElementById("bulk-form"); }

  function toast(message) { window.dashboardToast(message, 2600); }

  // --- remembered between pages -----------------------------------------------------------

  // localStorage for a preference (every tab, every visit); sessionStorage for "where was I"
  // (this tab only). Either may be refused (private windows, quotas): then nothing is remembered.
  function load(storage, key) {
    try { return window[storage].getItem(key); } catch (e) { return null; }
  }
  function store(storage, key, value) {
    try {
      if (value === null) window[storage].removeItem(key); else window[storage].setItem(key, value);
    } catch (e) { /* not remembered */ }
  }

  var ADVANCE_KEY = "review.voteAndAdvance";
  var OPENED_KEY = "review.openedStep";

  function advancing() { return load("localStorage", ADVANCE_KEY) === "1"; }

  function showAdvance() {
    var on = advancing();
    document.querySelectorAll("input[data-vote-advance]").forEach(function (box) { box.checked = on; });
    var flag = document.getElementById("advance-flag");
    if (flag) flag.hidden = !on || !document.querySelector(".vote");
  }

  function setAdvance(on) {
    store("localStorage", ADVANCE_KEY, on ? "1" : null);
    showAdvance();
  }

  // --- focus ------------------------------------------------------------------------------

  // scroll: bring the row into view (keys). A mouse press must not: the page would move under
  // the pointer between mousedown and mouseup and the click would land elsewhere, or nowhere.
  function focusRow(index, scroll) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("kbd-focus", i === index); });
    focused = index;
    if (scroll !== false) all[index].scrollIntoView({ block: "nearest" });
  }

  function focusedRow() {
    var all = rows();
    var current = document.querySelector("tr.step-row.kbd-focus");
    if (current) { focused = all.indexOf(current); return current; }
    return null;
  }

  // --- votes ------------------------------------------------------------------------------

  // then: called once the vote is saved here (not on an error: the page stays, with the error's toast)
  function voteIn(container, value, then) {
    var widget = container && container.querySelector(".vote");
    if (!widget || !window.htmx) return;
    var form = widget.querySelector("form.vote-form");
    // a viewer's widget has no form: say why instead of pretending to save
    if (!form) {
      var refused = widget.querySelector("[data-refused]");
      toast(refused ? refused.dataset.refused : STATUS_MESSAGES[403]);
      return;
    }
    if (then) afterSaved(form, then);
    markPressed(widget, value);
    htmx.ajax("POST", form.getAttribute("hx-post"), {
      source: form,
      target: "#" + widget.id,
      swap: "outerHTML",
      // set=1: a key sets the vote (pressing + twice keeps it), a click toggles it
      values: { value: value, set: "1" }
    });
  }

  // htmx reports the end of the request on the form, or (once the answer has replaced the widget
  // and the form with it) on the nearest ancestor still in the page: both reach the document.
  function afterSaved(form, then) {
    function done(event) {
      var config = event.detail && event.detail.requestConfig;
      if (!config || config.elt !== form) return;
      document.removeEventListener("htmx:afterRequest", done);
      if (event.detail.successful) then();
    }
    document.addEventListener("htmx:afterRequest", done);
  }

  function markPressed(widget, value) {
    widget.querySelectorAll(".vote-btn").forEach(function (b) { b.classList.toggle("is-active", b.value === value); });
    markSaving(widget);
  }

  // Until the server answers, the widget says "saving": a "✓ saved" left from the previous vote
  // would confirm a vote that has not been saved yet.
  function markSaving(widget) {
    widget.dataset.state = "saving";
    var line = widget.querySelector(".wb, .wb-line");
    if (!line) return;
    line.className = line.className.replace(/\bwb-(none|saved|failed|retrying|conflict)\b/, "wb-saving");
    line.textContent = line.classList.contains("wb") ? "saving…" : "Saving to Letta…";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("form.vote-form");
    var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent && event.detail.requestConfig.triggeringEvent.submitter;
    if (!form || !submitter) return;
    var widget = form.closest(".vote");
    var wasActive = submitter.classList.contains("is-active");
    widget.querySelectorAll(".vote-btn").forEach(function (b) { b.classList.remove("is-active"); });
    if (!wasActive) submitter.classList.add("is-active");
    markSaving(widget);
  });

  // Our 400s carry a one-line reason; anything else (a 404/403 page, a 500) gets a sentence.
  var STATUS_MESSAGES = {403: "You are not allowed to do that.", 404: "That step no longer exists."};
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr && xhr.responseText ? xhr.responseText.trim() : "";
    // dashboard/errors.py answers htmx with one line of text/plain for every error status
    var plain = xhr && /^text\/plain/.test(xhr.getResponseHeader("Content-Type") || "");
    var reason = xhr && (plain || xhr.status === 400) && text && text.charAt(0) !== "<" ? text.slice(0, 200) : "";
    toast(reason || STATUS_MESSAGES[xhr && xhr.status] || "Something went wrong; nothing was saved.");
  });
  document.addEventListener("htmx:sendError", function () { toast("The server cannot be reached; nothing was saved."); });

  // --- selection --------------------------------------------------------------------------

  function setScope(scope) {
    var form = bulkForm();
    if (!form) return;
    form.elements.scope.value = scope;
    form.classList.toggle("scope-all", scope === "all");
  }

  function refreshBar() {
    var form = bulkForm();
    if (!form) return;
    var n = checks().filter(function (c) { return c.checked; }).length;
    form.hidden = n === 0 && form.elements.scope.value !== "all";
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = String(n);
    var page = document.querySelector("input.page-check");
    if (page) {
      page.checked = n > 0 && n === checks().length;
      page.indeterminate = n > 0 && n < checks().length;
    }
    rows().forEach(function (row) {
      var box = row.querySelector("input.row-check");
      row.classList.toggle("is-selected", !!(box && box.checked));
    });
  }

  function resetMatching() {
    var form = bulkForm();
    if (!form || form.elements.scope.value !== "all") return;
    setScope("selected");
    var scope = document.getElementById("bulk-scope");
    if (scope && scope._original) { scope.innerHTML = scope._original; htmx.process(scope); }
  }

  function clearSelection() {
    checks().forEach(function (c) { c.checked = false; });
    resetMatching();
    refreshBar();
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest("input.row-check");
    if (box) {
      var all = checks();
      var index = all.indexOf(box);
      if (event.shiftKey && lastChecked >= 0 && lastChecked < all.length) {
        var lo = Math.min(index, lastChecked), hi = Math.max(index, lastChecked);
        for (var i = lo; i <= hi; i++) all[i].checked = box.checked;
      }
      lastChecked = index;
      if (!box.checked) resetMatching();
      refreshBar();
      return;
    }
    if (event.target.closest("input.page-check")) {
      var on = event.target.checked;
      checks().forEach(function (c) { c.checked = on; });
      if (!on) resetMatching();
      refreshBar();
      return;
    }
    var matching = event.target.closest("[data-select-matching]");
    if (matching) {
      var scope = document.getElementById("bulk-scope");
      if (scope && !scope._original) scope._original = scope.innerHTML;
      checks().forEach(function (c) { c.checked = true; });
      setScope("all");
      refreshBar();
      return; // htmx fetches the count into #bulk-scope
    }
    if (event.target.closest("[data-bulk-cancel]")) { event.preventDefault(); clearSelection(); return; }
    if (event.target.closest("[data-show-shortcuts]")) { showShortcuts(true); return; }
    if (event.target.closest("[data-close-shortcuts]") || event.target.id === "shortcuts") { showShortcuts(false); }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.id === "bulk-form" && event.detail.successful) clearSelection();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "step-table") {
      focused = -1; lastChecked = -1; refreshBar();
      // paging by key carries on at the top of the new page, focus on its first row
      if (pagedByKey) { pagedByKey = false; window.scrollTo(0, 0); focusRow(0); }
    }
  });

  // --- keyboard ---------------------------------------------------------------------------

  function showShortcuts(show) {
    var overlay = document.getElementById("shortcuts");
    if (overlay) overlay.hidden = !show;
  }

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) window.location.href = link.href;
  }

  var VOTES = { "+": "positive", "=": "positive", "-": "negative", "−": "negative", "_": "negative", "0": "" };

  // --- moving along, and saying so where there is nowhere to go ---------------------------

  function moveInList(step) {
    var all = rows();
    if (!all.length) return;
    var current = focusedRow() ? focused : -1;
    if (current < 0) { focusRow(0); return; }
    var next = current + step;
    if (next >= 0 && next < all.length) { focusRow(next); return; }
    if (step > 0) {
      toast(document.querySelector("[data-key-older]") ? "Last step on this page: n for the next page." : "Last step of the list.");
    } else {
      toast(document.querySelector("[data-key-newer]") ? "First step on this page: p for the previous page." : "First step of the list.");
    }
  }

  // On a step page: the run's next / previous step, or the reason there is none.
  function moveInRun(forward) {
    var link = document.querySelector(forward ? "[data-key-next]" : "[data-key-prev]");
    if (link && link.href) { window.location.href = link.href; return; }
    var end = document.querySelector(forward ? "[data-key-next-end]" : "[data-key-prev-end]");
    if (end) toast(end.getAttribute(forward ? "data-key-next-end" : "data-key-prev-end"));
  }

  // The step last opened (from a row, or the step page last shown: j and k move on from the one
  // first opened) is focused in the list you come back to with u or the browser's back button.
  function rememberOpened(stepId) { store("sessionStorage", OPENED_KEY, stepId || null); }

  function restoreFocus() {
    var opened = load("sessionStorage", OPENED_KEY);
    if (!opened) return;
    store("sessionStorage", OPENED_KEY, null);
    var index = rows().findIndex(function (row) { return row.dataset.step === opened; });
    if (index >= 0) focusRow(index);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var overlay = document.getElementById("shortcuts");
    if (event.key === "Escape") { if (overlay && !overlay.hidden) showShortcuts(false); return; }
    if (typing(event.target)) return;
    var key = event.key;
    // Enter on a focused button or link is that control's own click
    if (key === "Enter" && event.target.closest && event.target.closest("a, button")) return;
    var onList = !!document.getElementById("step-rows");
    var handled = true;
    if (key === "?") {
      showShortcuts(!overlay || overlay.hidden);
    } else if (key === "/") {
      var search = document.querySelector("input[name=q]");
      if (search) search.focus(); else handled = false;
    } else if (key === "a" && document.querySelector(".vote")) {
      setAdvance(!advancing());
      toast(advancing() ? "Vote and advance: on. + or − moves to the next step." : "Vote and advance: off.");
    } else if (onList && (key === "j" || key === "k")) {
      moveInList(key === "j" ? 1 : -1);
    } else if (onList && key in VOTES) {
      var row = focusedRow();
      if (row) voteIn(row, VOTES[key]); else handled = false;
      // the next row at once: the vote goes on saving in the row it was cast in
      if (row && VOTES[key] && advancing()) moveInList(1);
    } else if (onList && (key === "o" || key === "Enter")) {
      var open = focusedRow();
      if (open) { rememberOpened(open.dataset.step); window.location.href = window.dashboardRowHref(open); } else handled = false;
    } else if (onList && (key === "n" || key === "p")) {
      var pager = document.querySelector(key === "n" ? "[data-key-older]" : "[data-key-newer]");
      if (pager) { pagedByKey = true; pager.click(); } else handled = false;
    } else if (onList && key === "x") {
      var sel = focusedRow();
      var box = sel && sel.querySelector("input.row-check");
      if (box) box.click(); else handled = false;
    } else if (!onList && key in VOTES && document.querySelector(".vote-page")) {
      // leaving the page before the answer could lose the vote: move on once it is saved
      var advance = VOTES[key] && advancing() ? function () { moveInRun(true); } : null;
      voteIn(document.querySelector(".review-card"), VOTES[key], advance);
    } else if (!onList && (key === "j" || key === "k")) {
      moveInRun(key === "j");
    } else if (!onList && key === "n") {
      follow("[data-key-queue]");
    } else if (!onList && key === "u") {
      follow("[data-key-list]");
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  });

  // a row that is clicked becomes the keyboard focus, so mouse and keys can be mixed
  document.addEventListener("mousedown", function (event) {
    var row = event.target.closest && event.target.closest("tr.step-row");
    if (row) { focusRow(rows().indexOf(row), false); rememberOpened(row.dataset.step); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[data-vote-advance]")) setAdvance(event.target.checked);
  });

  document.addEventListener("DOMContentLoaded", function () {
    showAdvance();
    var stepPage = document.querySelector(".step-layout[data-step]");
    if (stepPage) rememberOpened(stepPage.dataset.step);
    else if (document.getElementById("step-rows")) restoreFocus();
  });
  // another tab changed the setting
  window.addEventListener("storage", function (event) { if (event.key === ADVANCE_KEY) showAdvance(); });
})();
