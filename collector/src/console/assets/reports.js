// Draws each report chart with Chart.js from the spec in its canvas's
// data-chart attribute, then records the number drawn on <html
// data-charts-drawn> so tests and people can tell the page finished.
(function drawReportCharts() {
  const palette = ['#2f6fde', '#e8833a', '#3a9e5f', '#c62828', '#7b5ea7', '#8d6e63', '#00838f'];
  const canvases = document.querySelectorAll('canvas[data-chart]');
  if (typeof Chart === 'undefined') {
    document.documentElement.dataset.chartsError = 'Chart.js did not load';
    return;
  }

  let drawn = 0;
  for (const canvas of canvases) {
    const spec = JSON.parse(canvas.dataset.chart);
    const datasets = spec.datasets.map((dataset, index) => ({
      label: dataset.label,
      data: dataset.data,
      borderColor: palette[index % palette.length],
      backgroundColor: palette[index % palette.length],
      spanGaps: true,
      tension: 0.2,
    }));
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          x: { stacked: Boolean(spec.isStacked) },
          y: {
            stacked: Boolean(spec.isStacked),
            beginAtZero: true,
            title: { display: true, text: spec.unit },
          },
        },
      },
    });
    drawn += 1;
  }
  document.documentElement.dataset.chartsDrawn = String(drawn);
})();
