// One bar chart per survey question, from the JSON each card embeds (CSP: no inline script).
(function () {
  "use strict";
  if (!window.Chart) { return; }
  document.querySelectorAll("canvas.survey-chart").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: "#198754" }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                 maintainAspectRatio: false }
    });
  });
})();
