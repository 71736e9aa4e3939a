// Refreshes every import progress bar on the page once a second until its import ends.
"use strict";
(function () {
  function poll(bar) {
    const url = bar.dataset.progressUrl;
    const text = document.querySelector('[data-progress-text="' + url + '"]');
    fetch(url, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((state) => {
        if (!state) return;
        bar.max = state.total_rows || 1;
        bar.value = state.processed_rows;
        if (text) text.textContent = state.text;
        if (state.status === "pending" || state.status === "running") {
          setTimeout(() => poll(bar), 1000);
        }
      });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("progress[data-progress-url]").forEach(poll);
  });
})();
