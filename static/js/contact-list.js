// The contact list: filter inputs, row selection, bulk dialog and column ordering (buttons
// and drag). Keyboard navigation and cell editing are in list-keys.js.
(function () {
  "use strict";

  function updateFilterInputs(root) {
    var op = root.querySelector("[data-filter-operator]");
    if (!op) return;
    var option = op.options[op.selectedIndex];
    var arity = option ? option.dataset.arity : "1";
    var kind = option ? option.dataset.kind : "text";
    var first = root.querySelector("[data-filter-value]");
    var second = root.querySelector("[data-filter-value2]");
    if (first) first.hidden = arity === "0";
    if (second) second.hidden = arity !== "2";
    root.querySelectorAll("[data-filter-value] input, [data-filter-value2] input").forEach(function (input) {
      input.type = kind === "date" ? "date" : "text";
      input.inputMode = kind === "number" || kind === "days" ? "decimal" : "text";
      if (kind === "days") input.placeholder = "7";
    });
  }

  function selectedBoxes() {
    return document.querySelectorAll("#bulk-form input[name=ids]:checked");
  }

  function updateSelection() {
    var scope = document.getElementById("bulk-scope");
    if (!scope) return;
    var count = selectedBoxes().length;
    if (!scope.dataset.allText) scope.dataset.allText = scope.textContent;
    scope.textContent = count
      ? count + " selected — actions apply to the selected rows"
      : scope.dataset.allText;
    var pageBox = document.querySelector("[data-select-page]");
    var boxes = document.querySelectorAll("#bulk-form input[name=ids]");
    if (pageBox) {
      pageBox.checked = count > 0 && count === boxes.length;
      pageBox.indeterminate = count > 0 && count < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-filter-operator]")) updateFilterInputs(target.closest("#filter-inputs"));
    if (target.matches("[data-select-page]")) {
      document.querySelectorAll("#bulk-form input[name=ids]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches("#bulk-form input[name=ids], [data-select-page]")) updateSelection();
  });

  document.addEventListener("click", function (event) {
    var move = event.target.closest("[data-move]");
    if (move) {
      var item = move.closest("li");
      if (move.dataset.move === "up" && item.previousElementSibling) {
        item.parentNode.insertBefore(item, item.previousElementSibling);
      } else if (move.dataset.move === "down" && item.nextElementSibling) {
        item.parentNode.insertBefore(item.nextElementSibling, item);
      }
      move.focus();
    }
    if (event.target.closest("[data-clear-search]")) {
      var search = document.getElementById("list-search");
      if (search) search.value = "";
    }
    var confirmButton = event.target.closest("[data-confirm]");
    if (confirmButton && !window.confirm(confirmButton.dataset.confirm)) event.preventDefault();
  });

  // Columns reorder by drag as well as with the move buttons.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    dragged = event.target instanceof Element && event.target.closest(".columns-list li");
    if (!dragged) return;
    dragged.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.column);
  });
  document.addEventListener("dragover", function (event) {
    var over = dragged && event.target instanceof Element && event.target.closest(".columns-list li");
    if (!over || over === dragged) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();  // the list is already in its new order
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
  });

  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-close-modal]")) {
      var dialog = document.getElementById("bulk-dialog");
      if (dialog && window.bootstrap) window.setTimeout(function () {
        window.bootstrap.Modal.getOrCreateInstance(dialog).hide();
      }, 100);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "bulk-dialog-body" && window.bootstrap) {
      window.bootstrap.Modal.getOrCreateInstance(document.getElementById("bulk-dialog")).show();
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "filter-inputs") {
      updateFilterInputs(document.getElementById("filter-inputs"));
    }
    updateSelection();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    // Keep what was typed when the filter was refused (the answer carries an alert).
    var refused = event.detail.xhr && event.detail.xhr.responseText.indexOf('role="alert"') !== -1;
    if (form && form.id === "add-filter-form" && event.detail.successful && !refused) {
      form.querySelectorAll("input[name=nf_value], input[name=nf_value2]").forEach(function (input) {
        input.value = "";
      });
    }
  });

  // Back/Forward restores the table from htmx's history; bring the search box along.
  document.addEventListener("htmx:historyRestore", function () {
    var search = document.getElementById("list-search");
    if (search) search.value = new URLSearchParams(window.location.search).get("q") || "";
  });

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.getElementById("filter-inputs");
    if (inputs) updateFilterInputs(inputs);
    updateSelection();
  });
})();
