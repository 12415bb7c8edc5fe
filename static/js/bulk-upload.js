// The bulk upload wizard: drag-and-drop file choice, the "new field" inputs, tag chips.
(function () {
  "use strict";

  function setupDrop(zone) {
    var input = document.getElementById(zone.getAttribute("for"));
    var nameEl = zone.querySelector("[data-upload-name]");
    var errorEl = document.querySelector("[data-upload-error]");
    var maxBytes = parseInt(input.dataset.maxBytes || "0", 10);
    function show() {
      var file = input.files && input.files[0];
      nameEl.textContent = file ? file.name : "No file chosen";
      errorEl.textContent = "";
      if (file && maxBytes && file.size > maxBytes) {
        errorEl.textContent = file.name + " is larger than 50 MB; split it and upload the parts.";
      }
    }
    input.addEventListener("change", show);
    show();  // a file chosen before this ran (or kept by the browser on Back) is named too
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  }

  function toggleNewField(select) {
    var row = select.closest("[data-mapping-row]");
    var extra = row && row.querySelector("[data-new-field]");
    if (extra) extra.hidden = select.value !== "new";
  }

  function dedupeChips(container) {
    var seen = {};
    container.querySelectorAll("input[name=tags]").forEach(function (input) {
      if (seen[input.value]) {
        input.closest("label").remove();
      } else {
        seen[input.value] = true;
      }
    });
    document.querySelectorAll("#tags-form > fieldset input[name=tags]").forEach(function (input) {
      // A default tag added from the pop-up: tick its checkbox instead of a chip.
      var chip = container.querySelector("input[value='" + input.value + "']");
      if (chip && input.closest("[data-chosen-tags]") === null) {
        input.checked = true;
        chip.closest("label").remove();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-upload-drop]").forEach(setupDrop);
    document.querySelectorAll("[data-mapping-select]").forEach(function (select) {
      toggleNewField(select);
      select.addEventListener("change", function () { toggleNewField(select); });
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.matches("[data-chosen-tags]")) dedupeChips(target);
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (form && form.matches && form.matches("[data-tag-create]") && target.id === "chosen-tags") {
      form.reset();
      document.getElementById("tag-create-error").textContent = "";
    }
  });
})();
