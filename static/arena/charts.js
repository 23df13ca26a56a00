// Model page charts, drawn from json_script elements the server filled.
// Landscape: every rated model of an arena as a point, rating against its cheapest price per
// image or against its fastest provider's median time; this page's model stands out with its
// name beside it, the Pareto front (computed server-side) is a step line, and clicking a point
// opens that model's page. Performance: one horizontal bar per ranked provider, for median
// time, success rate and time to first byte; the rankings table holds the same numbers, so the
// bars stay hidden until they are drawn.
(function () {
  "use strict";
  var AXIS = {
    price: { title: "Cheapest price per image (US$, log scale)", format: function (v) { return "$" + v.toFixed(4); } },
    seconds: { title: "Median time, fastest provider (s, log scale)", format: function (v) { return v.toFixed(1) + " s"; } },
  };
  var BARS = {
    p50_ms: function (v) { return Math.round(v).toLocaleString("en") + " ms"; },
    ttfb_ms: function (v) { return Math.round(v).toLocaleString("en") + " ms"; },
    success_percent: function (v) { return v.toFixed(1) + "%"; },
  };

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // A log axis labels 1, 2 and 5 times each power of ten, and leaves the ticks between bare.
  function roundTick(value) {
    var mantissa = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    var round = [1, 2, 5].some(function (k) { return Math.abs(mantissa - k) < 1e-6; });
    return round ? String(Number(value.toPrecision(1))) : "";
  }

  // Writes this model's name next to its point (dataset 1), on whichever side has room.
  var nameThisModel = {
    id: "nameThisModel",
    afterDatasetsDraw: function (chart) {
      var meta = chart.getDatasetMeta(1);
      var name = chart.data.datasets[1].label;
      if (!meta.data.length || !name) return;
      var point = meta.data[0];
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.fillStyle = cssVar("--ink") || "#17171b";
      var width = ctx.measureText(name).width;
      var right = point.x + 12 + width <= area.right;
      ctx.textAlign = right ? "left" : "right";
      ctx.textBaseline = "middle";
      var y = Math.min(Math.max(point.y - 12, area.top + 8), area.bottom - 8);
      ctx.fillText(name, right ? point.x + 12 : point.x - 12, y);
      ctx.restore();
    },
  };

  function drawLandscape(canvas) {
    var field = canvas.dataset.chart;
    var board = JSON.parse(document.getElementById(canvas.dataset.points).textContent);
    var points = board.points
      .filter(function (p) { return p[field] !== null && p[field] > 0; })
      .map(function (p) { return { x: p[field], y: p.rating, model: p.model, slug: p.slug }; });
    // A free model ($0) has no place on a log scale: the page names it under the chart.
    var front = board.fronts[field]
      .filter(function (p) { return p[0] > 0; })
      .map(function (p) { return { x: p[0], y: p[1] }; });
    var mine = points.filter(function (p) { return p.slug === canvas.dataset.model; });
    var others = points.filter(function (p) { return p.slug !== canvas.dataset.model; });
    var xs = points.map(function (p) { return p.x; });
    var xMax = xs.length ? Math.max.apply(null, xs) * 1.25 : undefined;
    // Past its last point the front holds that best rating to the right edge: paying more (or
    // waiting longer) buys no better model.
    if (front.length) front.push({ x: xMax, y: front[front.length - 1].y });
    var accent = cssVar("--accent");
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          { label: "Other models", data: others, backgroundColor: "#a3a3ad", pointRadius: 5, pointHoverRadius: 7 },
          { label: canvas.dataset.name, data: mine, backgroundColor: accent, pointRadius: 8, pointHoverRadius: 10 },
          {
            label: "Pareto front", type: "line", data: front, stepped: "before", showLine: true,
            borderColor: accent, borderWidth: 1.5, borderDash: [5, 4], pointRadius: 0,
            pointHitRadius: 0, fill: false,
          },
        ],
      },
      plugins: [nameThisModel],
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          // Room around the outermost points, so none is cut in half by the frame.
          x: {
            type: "logarithmic",
            min: xs.length ? Math.min.apply(null, xs) / 1.25 : undefined,
            max: xMax,
            ticks: { callback: roundTick, autoSkip: false, maxRotation: 0 },
            title: { display: true, text: AXIS[field].title },
          },
          y: { grace: "8%", title: { display: true, text: "Rating" } },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            filter: function (item) { return item.datasetIndex < 2; },
            callbacks: {
              label: function (item) {
                return item.raw.model + ": " + Math.round(item.raw.y) + ", " + AXIS[field].format(item.raw.x);
              },
            },
          },
        },
        onClick: function (event, elements, chart) {
          var hits = elements.filter(function (e) { return e.datasetIndex < 2; });
          if (!hits.length) return;
          var point = chart.data.datasets[hits[0].datasetIndex].data[hits[0].index];
          window.location.href = "/models/" + encodeURIComponent(point.slug) + "/";
        },
      },
    });
  }

  function drawBars(canvas, figures) {
    var field = canvas.dataset.bars;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.providers,
        datasets: [{ label: canvas.dataset.label, data: figures[field], backgroundColor: cssVar("--accent"), maxBarThickness: 28 }],
      },
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: {
            beginAtZero: true,
            max: field === "success_percent" ? 100 : undefined,
            ticks: { maxRotation: 0, callback: function (v) { return BARS[field](v); }, maxTicksLimit: 5 },
          },
          y: { ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return BARS[field](item.raw); } } },
        },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(drawLandscape);
  document.querySelectorAll("[data-bars-for]").forEach(function (box) {
    var figures = JSON.parse(document.getElementById(box.dataset.barsFor).textContent);
    box.hidden = false;
    box.querySelectorAll("canvas[data-bars]").forEach(function (canvas) { drawBars(canvas, figures); });
  });
})();
