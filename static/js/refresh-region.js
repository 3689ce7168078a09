// A part of the page that changes with the clock (the personal check-in code, the projector's code and counts,
// a background job's progress):
// fetch the page again when it is due and swap that part in place. A <meta http-equiv="refresh"> reloaded the
// whole page every minute, which sends a screen reader back to the top (WCAG 2.2.1); the meta tag is kept in
// <noscript> for browsers without JavaScript.
(function () {
  "use strict";
  function schedule(region, seconds) {
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (!fresh) { window.location.reload(); return; } // the page became something else (a file, a result)
          region.innerHTML = fresh.innerHTML;
          if (fresh.dataset.refreshAfter) { schedule(region, fresh.dataset.refreshAfter); } // still working
        })
        .catch(function () { schedule(region, 10); });
    }, Math.max(Number(seconds) || 60, 1) * 1000);
  }
  document.querySelectorAll("[data-refresh-after][id]").forEach(function (region) {
    schedule(region, region.dataset.refreshAfter);
  });
})();
