// The contact list's column headers reorder by drag. The new order is saved per user by the
// Columns panel's own form (the request its "Apply columns" button sends, the form loaded
// first if the panel was never opened), after the panel's list is put in the same order; the
// list then reloads itself. The panel's move buttons are
// the keyboard way to do the same.
(function () {
  "use strict";

  var HEADER = "table.contact-table th[data-field]";
  var dragged = null;

  function headers() {
    return document.querySelectorAll(HEADER);
  }

  function arm() {
    headers().forEach(function (th) {
      th.draggable = true;
      th.classList.add("column-draggable");
      th.title = "Drag to move this column";
    });
  }

  function headerAt(event) {
    return event.target instanceof Element ? event.target.closest(HEADER) : null;
  }

  function placeAfter(event, th) {
    var box = th.getBoundingClientRect();
    return event.clientX > box.left + box.width / 2;
  }

  function clearMarks() {
    headers().forEach(function (th) {
      th.classList.remove("drop-before", "drop-after", "is-dragging");
    });
  }

  // The panel's form is drawn when the panel first opens; a drag before that loads it.
  function withPanel(then) {
    if (document.getElementById("columns-form")) return then();
    var body = document.getElementById("columns-panel-body");
    if (!body || !window.htmx) return;
    window.htmx
      .ajax("GET", body.getAttribute("hx-get"), { target: body, swap: "innerHTML" })
      .then(function () {
        window.htmx.process(body); // the new form's hx-post, before it is submitted
        then();
      });
  }

  function save(key, targetKey, after) {
    withPanel(function () {
      reorder(key, targetKey, after);
    });
  }

  function reorder(key, targetKey, after) {
    var form = document.getElementById("columns-form");
    var list = form && form.querySelector(".columns-list");
    if (!list) return;
    var item = list.querySelector('li[data-column="' + CSS.escape(key) + '"]');
    var target = list.querySelector('li[data-column="' + CSS.escape(targetKey) + '"]');
    if (!item || !target) return;
    list.insertBefore(item, after ? target.nextElementSibling : target);
    form.requestSubmit();
  }

  document.addEventListener("dragstart", function (event) {
    var th = headerAt(event);
    if (!th) return;
    dragged = th;
    th.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", th.dataset.field);
  });

  document.addEventListener("dragover", function (event) {
    var over = dragged && headerAt(event);
    if (!over) return;
    event.preventDefault();
    headers().forEach(function (th) {
      th.classList.remove("drop-before", "drop-after");
    });
    if (over !== dragged) over.classList.add(placeAfter(event, over) ? "drop-after" : "drop-before");
  });

  document.addEventListener("drop", function (event) {
    var over = dragged && headerAt(event);
    if (!over) return;
    event.preventDefault();
    if (over !== dragged) save(dragged.dataset.field, over.dataset.field, placeAfter(event, over));
  });

  document.addEventListener("dragend", function () {
    clearMarks();
    dragged = null;
  });

  document.addEventListener("DOMContentLoaded", arm);
  document.addEventListener("htmx:afterSettle", arm);
})();
