// Model page charts: every rated model of an arena as a point, rating against its cheapest
// price per image or against its fastest provider's median time; this page's model stands out.
// Points come from a json_script element; clicking one opens that model's page.
(function () {
  "use strict";
  var AXIS = {
    price: { title: "Cheapest price per image (US$, log scale)", format: function (v) { return "$" + v.toFixed(4); } },
    seconds: { title: "Median time, fastest provider (s, log scale)", format: function (v) { return v.toFixed(1) + " s"; } },
  };

  // A log axis labels 1, 2 and 5 times each power of ten, and leaves the ticks between bare.
  function roundTick(value) {
    var mantissa = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    var round = [1, 2, 5].some(function (k) { return Math.abs(mantissa - k) < 1e-6; });
    return round ? String(Number(value.toPrecision(1))) : "";
  }

  function draw(canvas) {
    var field = canvas.dataset.chart;
    var points = JSON.parse(document.getElementById(canvas.dataset.points).textContent)
      .filter(function (p) { return p[field] !== null && p[field] > 0; })
      .map(function (p) { return { x: p[field], y: p.rating, model: p.model, slug: p.slug }; });
    var mine = points.filter(function (p) { return p.slug === canvas.dataset.model; });
    var others = points.filter(function (p) { return p.slug !== canvas.dataset.model; });
    var xs = points.map(function (p) { return p.x; });
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: "Other models", data: others, backgroundColor: "#a3a3ad", pointRadius: 5, pointHoverRadius: 7 },
          { label: mine.length ? mine[0].model : "This model", data: mine, backgroundColor: accent, pointRadius: 8, pointHoverRadius: 10 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          // Room around the outermost points, so none is cut in half by the frame.
          x: {
            type: "logarithmic",
            min: xs.length ? Math.min.apply(null, xs) / 1.25 : undefined,
            max: xs.length ? Math.max.apply(null, xs) * 1.25 : undefined,
            ticks: { callback: roundTick, autoSkip: false, maxRotation: 0 },
            title: { display: true, text: AXIS[field].title },
          },
          y: { grace: "8%", title: { display: true, text: "Rating" } },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.raw.model + ": " + Math.round(item.raw.y) + ", " + AXIS[field].format(item.raw.x);
              },
            },
          },
        },
        onClick: function (event, elements, chart) {
          if (!elements.length) return;
          var hit = elements[0];
          var point = chart.data.datasets[hit.datasetIndex].data[hit.index];
          window.location.href = "/models/" + encodeURIComponent(point.slug) + "/";
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
