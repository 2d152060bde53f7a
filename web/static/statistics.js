// The statistics dashboard's charts (web/templates/reports/statistics.html), drawn by Chart.js from the page's
// own JSON (<script type="application/json" id="statistics-data">): no inline script, so the strict
// Content-Security-Policy holds. In Arabic the category axis runs right to left and the legend reads from the right.
"use strict";

(function () {
  const source = document.getElementById("statistics-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  // The palette of majlis.css: the accent green, then gold, blue and a muted grey.
  const colours = ["#0b6e4f", "#c9a227", "#2f6690", "#7a7a7a"];
  const numbers = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 2 });
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.locale = data.locale;

  data.charts.forEach(function (chart) {
    const canvas = document.getElementById("chart-" + chart.key);
    if (!canvas) {
      return;
    }
    const line = chart.kind === "line";
    const datasets = chart.series.map(function (series, index) {
      const colour = colours[index % colours.length];
      return {
        label: series.label,
        data: series.data,
        backgroundColor: colour,
        borderColor: colour,
        // A suppressed point is a gap, not a zero.
        spanGaps: false,
        tension: 0.2,
      };
    });
    new Chart(canvas, {
      type: chart.kind,
      data: { labels: chart.labels, datasets: datasets },
      options: {
        locale: data.locale,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          // The categories (or days) run from the right in Arabic; the values' axis stands on the right too.
          x: { reverse: data.rtl, ticks: { autoSkip: true, maxRotation: line ? 45 : 60 } },
          y: {
            position: data.rtl ? "right" : "left",
            beginAtZero: true,
            ticks: {
              callback: function (value) {
                return numbers.format(value);
              },
            },
          },
        },
        plugins: {
          legend: { rtl: data.rtl, textDirection: data.rtl ? "rtl" : "ltr", position: "top" },
          tooltip: { rtl: data.rtl, textDirection: data.rtl ? "rtl" : "ltr" },
        },
      },
    });
  });
})();
