// Refreshes every campaign progress line on the page every two seconds until it finishes.
"use strict";
(function () {
  const FINISHED = ["stopped", "completed"];
  function poll(line) {
    fetch(line.dataset.campaignProgress, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((state) => {
        if (!state) return;
        line.textContent = state.text;
        if (!FINISHED.includes(state.status)) {
          setTimeout(() => poll(line), 2000);
        }
      });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-campaign-progress]").forEach(poll);
  });
})();
