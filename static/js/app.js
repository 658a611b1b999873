// Small progressive enhancements. Upstream text is only ever read with textContent and
// written back as text nodes: no innerHTML touches data, so highlighting cannot inject markup.
(function () {
  "use strict";

  var TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false)\b|\b(null)\b|([{}\[\],])/g;
  var MAX_HIGHLIGHT = 400000; // characters; beyond that plain text stays fast

  function highlight(pre) {
    if (pre.dataset.highlighted) return;
    pre.dataset.highlighted = "1";
    var text = pre.textContent;
    if (text.length > MAX_HIGHLIGHT) return;
    var frag = document.createDocumentFragment();
    var last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text))) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var cls = m[1] ? (m[2] ? "tok-key" : "tok-str") : m[3] ? "tok-num" : m[4] ? "tok-bool" : m[5] ? "tok-null" : "tok-punc";
      var span = document.createElement("span");
      span.className = cls;
      span.textContent = m[1] || m[0];
      frag.appendChild(span);
      if (m[1] && m[2]) frag.appendChild(document.createTextNode(m[2]));
      last = TOKEN.lastIndex;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    pre.textContent = "";
    pre.appendChild(frag);
  }

  function toast(message, millis) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { el.hidden = true; }, millis || 1600);
  }
  // review.js (loaded after this file) reports errors through the same toast.
  window.dashboardToast = toast;

  // Where a clicked row leads: its data-href, or (a step list row, which carries the URL once)
  // the href of its row link. review.js opens the focused row the same way.
  function rowHref(row) {
    if (row.dataset.href) return row.dataset.href;
    var link = row.querySelector("a.row-link");
    return link ? link.href : "";
  }
  window.dashboardRowHref = rowHref;

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { toast("Copied"); }, function () { fallbackCopy(text); });
    } else {
      fallbackCopy(text);
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); toast("Copied"); } catch (e) { toast("Copy failed"); }
    area.remove();
  }

  function init(root) {
    root.querySelectorAll("pre.json").forEach(function (pre) {
      // highlight lazily: a closed <details> costs nothing until opened
      var details = pre.closest("details");
      if (details && !details.open) {
        details.addEventListener("toggle", function () { if (details.open) highlight(pre); }, { once: true });
      } else {
        highlight(pre);
      }
    });
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy-text],[data-copy-from],[data-download-from],.tab,tr[data-href],tr.step-row");
    if (!el) return;
    if (el.matches("[data-copy-text]")) {
      event.preventDefault();
      copy(el.dataset.copyText);
    } else if (el.matches("[data-copy-from]")) {
      event.preventDefault();
      var source = document.querySelector(el.dataset.copyFrom);
      if (source) copy(source.textContent);
    } else if (el.matches("[data-download-from]")) {
      event.preventDefault();
      var src = document.querySelector(el.dataset.downloadFrom);
      if (!src) return;
      var url = URL.createObjectURL(new Blob([src.textContent], { type: "application/json" }));
      var a = document.createElement("a");
      a.href = url;
      a.download = el.dataset.filename || "trace.json";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    } else if (el.matches(".tab")) {
      var tabs = el.parentElement.querySelectorAll(".tab");
      tabs.forEach(function (tab) {
        var selected = tab === el;
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        var panel = document.getElementById(tab.dataset.tab);
        if (panel) panel.hidden = !selected;
      });
    } else {
      // whole-row click, but let real links, selections and modifier clicks behave normally
      var href = rowHref(el);
      if (!href || event.target.closest("a,button,input,select,label,.no-nav") || window.getSelection().toString()) return;
      if (event.metaKey || event.ctrlKey) { window.open(href, "_blank"); return; }
      window.location.href = href;
    }
  });

  // --- the step list's filter form is the one source of its state -------------------------

  // A chip's × and the sort links in the table head change the form, then the form asks for
  // the list: a link that fetched the list by itself would leave the sidebar showing the old
  // value, and the next change would bring it back.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-filter-name]");
    var form = document.getElementById("filters");
    if (!link || !form || !window.htmx || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var control = form.elements.namedItem(link.dataset.filterName);
    if (!control) return; // nothing in the form to change: the link itself still works
    event.preventDefault();
    setControl(control, link.dataset.filterValue);
    htmx.trigger(form, "change");
  });

  function setControl(control, value) {
    if (control.type === "checkbox") control.checked = value !== "";
    else control.value = value;
  }

  // Only the parameters that carry a value go into the URL.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "filters" || event.detail.verb !== "get") return;
    var params = event.detail.parameters, empty = [];
    params.forEach(function (value, name) { if (value === "") empty.push(name); });
    empty.forEach(function (name) { params.delete(name); });
  });

  // The Export menu is a <details>: it opens without JavaScript; here it also closes on a click
  // elsewhere, on Escape, and once a format is chosen (the download starts, the page stays).
  function closeExportMenus(except) {
    document.querySelectorAll("details.export-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    var menu = event.target.closest("details.export-menu");
    closeExportMenus(menu);
    if (menu && event.target.closest(".export-item")) menu.open = false;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeExportMenus(null);
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
