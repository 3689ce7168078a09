// The compliance rate by unit, drawn from the JSON the page embeds (no inline script: CSP).
// Many units: horizontal bars, the box as tall as the bars need. On a phone the axis shows the
// start of each name (the whole name is in the tooltip and in the table below the chart).
(function () {
  "use strict";
  var canvas = document.getElementById("compliance-chart");
  var source = document.getElementById("compliance-data");
  if (!canvas || !source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var horizontal = data.labels.length > 6;
  if (horizontal) {
    canvas.parentNode.style.height = Math.max(300, data.labels.length * 28 + 60) + "px";
  }
  function shortName(label) {
    var room = canvas.parentNode.clientWidth < 576 ? 7 : 16;
    return label.length > room ? label.slice(0, room - 1) + "…" : label;
  }
  var rateAxis = { beginAtZero: true, max: 100, ticks: { callback: function (value) { return value + "%"; } } };
  var nameAxis = { ticks: { autoSkip: false, callback: function (value) { return shortName(this.getLabelForValue(value)); } } };
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ data: data.rates, backgroundColor: "#0d6efd" }] },
    options: {
      indexAxis: horizontal ? "y" : "x",
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: function (item) { return item.formattedValue + "%"; } } }
      },
      scales: horizontal ? { x: rateAxis, y: nameAxis } : { x: nameAxis, y: rateAxis },
      maintainAspectRatio: false
    }
  });
})();
