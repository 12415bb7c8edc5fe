// The contact list from the keyboard, and its cells edited in place.
//
// Focus has two levels, as in an ARIA grid: a row (Up/Down or j/k move it, Enter opens the
// contact, Right enters its cells) and a cell (arrows move, Enter or e edits, Escape goes
// back to the row). One element of the table is in the Tab order at a time. A pencil opens
// the contact page's own editor inside the cell (contact-detail.js gives it its keys:
// Escape cancels); Tab saves it and opens the next editable cell's editor.
(function () {
  "use strict";

  var ROWS = ".contact-table tbody tr";
  var lastColumn = 0; // the cell index a row returns to
  var tabMove = 0; // +1 / -1 while a Tab from an editor waits for its save

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(ROWS)); }
  function cells(tr) { return Array.prototype.slice.call(tr.querySelectorAll("td[data-field]")); }

  function prepare() {
    var all = rows();
    all.forEach(function (tr, i) {
      tr.tabIndex = i === 0 ? 0 : -1;
      cells(tr).forEach(function (td) { if (!td.hasAttribute("tabindex")) td.tabIndex = -1; });
    });
  }

  function moveFocus(el) {
    if (!el) return;
    document.querySelectorAll(".contact-table [tabindex='0']").forEach(function (other) {
      other.tabIndex = -1;
    });
    el.tabIndex = 0;
    el.focus();
  }

  function openContact(tr) {
    var link = tr.querySelector("td[data-field] a[href]");
    if (link) window.location.assign(link.href);
  }

  function closeOpenEditors(except) {
    document.querySelectorAll(".contact-table .cell-editor").forEach(function (form) {
      if (form.closest("td") === except) return;
      var cancel = form.querySelector("[data-cancel]");
      if (cancel) { window.htmx.process(cancel); cancel.click(); }
    });
  }

  function edit(td) {
    var pencil = td && td.querySelector(".cell-edit");
    if (!pencil || !window.htmx) return false;
    closeOpenEditors(td);
    window.htmx.ajax("GET", pencil.dataset.edit, { target: td, swap: "innerHTML" });
    return true;
  }

  function editableAfter(td, step) {
    var list = [];
    rows().forEach(function (tr) { list = list.concat(cells(tr)); });
    for (var i = list.indexOf(td) + step; i >= 0 && i < list.length; i += step) {
      if (list[i].querySelector(".cell-edit")) return list[i];
    }
    return null;
  }

  function rowKeys(evt, tr) {
    var all = rows();
    var index = all.indexOf(tr);
    var key = evt.key;
    if (key === "ArrowDown" || key === "j") moveFocus(all[index + 1]);
    else if (key === "ArrowUp" || key === "k") moveFocus(all[index - 1]);
    else if (key === "Enter") openContact(tr);
    else if (key === "ArrowRight") moveFocus(cells(tr)[lastColumn] || cells(tr)[0]);
    else if (key === "e") {
      var row = cells(tr);
      var target = row[lastColumn] && row[lastColumn].querySelector(".cell-edit") ? row[lastColumn]
        : row.filter(function (td) { return td.querySelector(".cell-edit"); })[0];
      if (!edit(target)) return;
    } else return;
    evt.preventDefault();
  }

  function cellKeys(evt, td) {
    var tr = td.closest("tr");
    var row = cells(tr);
    var column = row.indexOf(td);
    var all = rows();
    var key = evt.key;
    if (key === "ArrowDown" || key === "j") moveFocus(cells(all[all.indexOf(tr) + 1] || tr)[column]);
    else if (key === "ArrowUp" || key === "k") moveFocus(cells(all[all.indexOf(tr) - 1] || tr)[column]);
    else if (key === "ArrowRight") moveFocus(row[column + 1]);
    else if (key === "ArrowLeft") moveFocus(row[column - 1] || tr);
    else if (key === "Escape") moveFocus(tr);
    else if (key === "Enter" || key === "e") { if (!edit(td) && key === "Enter") openContact(tr); }
    else return;
    lastColumn = row.indexOf(document.activeElement) >= 0 ? row.indexOf(document.activeElement) : lastColumn;
    evt.preventDefault();
  }

  function typing(el) {
    return el.closest("input, textarea, select, [contenteditable], .cell-editor, .modal, .offcanvas, .dropdown-menu");
  }

  document.addEventListener("keydown", function (evt) {
    var el = evt.target;
    if (!(el instanceof Element) || evt.altKey || evt.ctrlKey || evt.metaKey) return;
    var editor = el.closest(".contact-table .cell-editor");
    if (editor && evt.key === "Tab") {
      evt.preventDefault();
      tabMove = evt.shiftKey ? -1 : 1;
      editor.requestSubmit();
      return;
    }
    if (el.id === "list-search" && evt.key === "ArrowDown") {
      evt.preventDefault();  // from the search box straight to the results
      moveFocus(rows()[0]);
      return;
    }
    if (typing(el)) return;
    if (evt.key === "/") {
      var search = document.getElementById("list-search");
      if (search) { evt.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (evt.key === "?") {
      var dialog = document.getElementById("shortcuts-dialog");
      if (dialog && window.bootstrap) { evt.preventDefault(); window.bootstrap.Modal.getOrCreateInstance(dialog).show(); }
      return;
    }
    if (el.matches(ROWS)) return rowKeys(evt, el);
    if (el.matches(ROWS + " > td[data-field]")) return cellKeys(evt, el);
    // j/k anywhere else start at the list's focused row.
    if (evt.key === "j" || evt.key === "k" || evt.key === "ArrowDown" && el === document.body) {
      var start = document.querySelector(ROWS + "[tabindex='0']") || rows()[0];
      if (start) { evt.preventDefault(); moveFocus(start.closest("tr")); }
    }
  });

  document.addEventListener("click", function (evt) {
    var pencil = evt.target instanceof Element && evt.target.closest(".contact-table .cell-edit");
    if (pencil) edit(pencil.closest("td"));
  });

  // A cell's answer arrived: after a save or cancel the focus comes back to the cell, or
  // (after Tab) moves on to the next editable cell's editor. A refused save stays open.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var td = evt.detail.target;
    if (!(td instanceof HTMLTableCellElement) || !td.closest(".contact-table")) return;
    if (td.querySelector(".cell-editor")) {
      if (tabMove && td.querySelector("[role=alert]")) tabMove = 0;
      return;
    }
    var step = tabMove;
    tabMove = 0;
    if (step && edit(editableAfter(td, step))) return;
    moveFocus(td);
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "results") prepare();
  });
  document.addEventListener("DOMContentLoaded", prepare);
})();
