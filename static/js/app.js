// Contact Hub's small script: toasts for Django messages (also after htmx swaps).
(function () {
  "use strict";
  function showToasts(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll(".toast[data-autoshow]").forEach(function (el) {
      el.removeAttribute("data-autoshow");
      window.bootstrap.Toast.getOrCreateInstance(el, { delay: 6000 }).show();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showToasts(document); });
  document.addEventListener("htmx:afterSettle", function () { showToasts(document); });
})();
