// The contact page: keyboard behaviour of the pencil editor, the chip editor for lists,
// "+ Add Field"'s new-field inputs, and the viewer's time zone for date-times. The contact
// list loads it too: its cells are edited with the same editor (.cell-editor).
(function () {
  "use strict";

  // The server shows date-times in the browser's zone (and the editor converts from it).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + ";path=/;max-age=31536000;samesite=lax";
    }
  } catch (e) { /* no Intl: the site's zone is used */ }

  function focusNew(root) {
    var target = root.matches && root.matches("[data-focus]") ? root : root.querySelector("[data-focus]");
    if (!target) return;
    target.removeAttribute("data-focus");
    target.focus();
    if (target.select && target.type === "text") target.select();
  }

  // New content from htmx: put the focus where the person continues (the input of an
  // editor that opened, the pencil of a row that closed), so keyboard use never gets lost.
  document.addEventListener("htmx:load", function (evt) { focusNew(evt.detail.elt); });

  function addChip(editor, text) {
    var value = text.trim();
    if (!value) return;
    var list = editor.querySelector(".chip-list");
    var name = editor.getAttribute("data-items-name");
    var exists = Array.prototype.some.call(list.querySelectorAll("input[type=hidden]"), function (i) {
      return i.value === value;
    });
    if (exists) return;
    var li = document.createElement("li");
    li.className = "chip";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = name;
    hidden.value = value;
    var label = document.createElement("span");
    label.textContent = value;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.setAttribute("aria-label", "Remove " + value);
    remove.textContent = "\u00d7";
    li.append(hidden, label, remove);
    list.appendChild(li);
  }

  function cancelEditor(evt) {
    var el = evt.target;
    var container = el.closest("form.field-row, .add-field-form, .cell-editor");
    var cancel = container && container.querySelector("[data-cancel]");
    if (cancel) {
      evt.preventDefault();
      // htmx binds new content only once it has settled; a key pressed straight after an
      // editor opened must still cancel it.
      if (window.htmx) window.htmx.process(cancel);
      cancel.click();
    }
  }

  // A <select> keeps Escape's keydown to itself in Chromium; its keyup still arrives.
  document.addEventListener("keyup", function (evt) {
    if (evt.key === "Escape" && evt.target instanceof HTMLSelectElement) cancelEditor(evt);
  });

  document.addEventListener("keydown", function (evt) {
    var el = evt.target;
    if (!(el instanceof Element)) return;
    var form = el.closest(".field-row.is-editing, .add-field-form, .cell-editor");
    if (evt.key === "Escape") {
      if (!(el instanceof HTMLSelectElement)) cancelEditor(evt);
      return;
    }
    if (!form) return;
    if (el.classList.contains("chip-input")) {
      var editor = el.closest("[data-chip-editor]");
      if ((evt.key === "Enter" || evt.key === ",") && el.value.trim()) {
        evt.preventDefault();
        addChip(editor, el.value);
        el.value = "";
      } else if (evt.key === "Backspace" && !el.value) {
        var last = editor.querySelector(".chip-list li:last-child");
        if (last) last.remove();
      }
      return;
    }
    // Enter saves from a switch too (browsers only submit from text-like inputs).
    if (evt.key === "Enter" && el.type === "checkbox") {
      evt.preventDefault();
      var htmlForm = el.closest("form");
      if (htmlForm) htmlForm.requestSubmit();
    }
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target instanceof Element && evt.target.closest(".chip-editor .chip-remove");
    if (!button) return;
    var editor = button.closest("[data-chip-editor]");
    button.closest("li").remove();
    var input = editor && editor.querySelector(".chip-input");
    if (input) input.focus();
  });

  // "+ Add Field": the label and type inputs matter only when "New field…" is chosen.
  function syncNewAttribute(root) {
    root.querySelectorAll(".add-field-form select[name=attribute]").forEach(function (select) {
      var isNew = select.value === "__new__";
      select.form.querySelectorAll("[data-new-attribute]").forEach(function (el) {
        el.hidden = !isNew;
      });
    });
  }
  document.addEventListener("change", function (evt) {
    if (evt.target instanceof Element && evt.target.matches(".add-field-form select[name=attribute]")) {
      syncNewAttribute(document);
      if (evt.target.value === "__new__") {
        var label = evt.target.form.querySelector("input[name=label]");
        if (label) label.focus();
      }
    }
  });
  document.addEventListener("htmx:load", function (evt) { syncNewAttribute(evt.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { syncNewAttribute(document); });

  // A cleared custom field's row goes away: continue from "+ Add Field" rather than the top.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.classList.contains("field-row") && !document.body.contains(target)) {
      var add = document.querySelector(".add-field-button");
      if (add) add.focus();
    }
  });

  // Tag suggestions: tell assistive technology whether the list is showing.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "tag-suggestions") {
      var input = document.getElementById("tag-input");
      if (input) input.setAttribute("aria-expanded", evt.detail.target.children.length ? "true" : "false");
    }
  });
})();
