// The compliance rate by unit, drawn from the JSON the page embeds (no inline script: CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("compliance-chart");
  var source = document.getElementById("compliance-data");
  if (!canvas || !source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ data: data.rates, backgroundColor: "#0d6efd" }] },
    options: {
      indexAxis: data.labels.length > 6 ? "y" : "x",
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, max: 100 }, y: { beginAtZero: true, max: 100 } },
      maintainAspectRatio: false
    }
  });
})();
