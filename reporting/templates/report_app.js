// The report's behaviour: unpack the chart data, sort the compliance table, draw the selected queue's charts.
(function () {
  "use strict";
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var select = document.getElementById("queue-select");
  var table = document.getElementById("compliance-table");

  // --- compliance table: click a heading to sort (empty values last), a row to chart that queue ---------
  var headings = table.querySelectorAll("thead th");
  headings.forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var descending = th.getAttribute("aria-sort") === "ascending";
      headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var textual = th.dataset.type === "text";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var order = textual ? x.localeCompare(y) : Number(x) - Number(y);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  table.tBodies[0].addEventListener("click", function (event) {
    var row = event.target.closest("tr");
    if (row) { select.value = row.dataset.key; draw(row.dataset.key); }
  });

  // --- chart data: gzip + base64 in the page (keeps 500 queues x a year within a few MB) ----------------
  function unpack() {
    var text = document.getElementById("report-data").textContent.trim();
    var bytes = Uint8Array.from(atob(text), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function dailySpec(data, key) {
    var series = data.daily[key] || { sl: [], target: [], offered: [] };
    var values = [];
    data.dates.forEach(function (day, i) {
      if (series.offered[i] !== null && series.offered[i] !== undefined) {
        values.push({ date: day, sl: series.sl[i], target: series.target[i], offered: series.offered[i] });
      }
    });
    var tooltip = [
      { field: "date", type: "nominal", title: "Local date" },
      { field: "sl", type: "quantitative", title: "SL %", format: ".2f" },
      { field: "target", type: "quantitative", title: "Target %", format: ".2f" },
      { field: "offered", type: "quantitative", title: "Offered", format: "," }
    ];
    // dates are local calendar days: read and shown as UTC so that no browser zone shifts them
    var x = { field: "date", type: "temporal", timeUnit: "utcyearmonthdate", title: "Local date" };
    return {
      width: "container", height: 260, data: { values: values },
      layer: [
        { mark: { type: "line", strokeDash: [6, 4], color: "#5f6368" },
          encoding: { x: x, y: { field: "target", type: "quantitative" }, tooltip: tooltip } },
        { mark: { type: "line", point: true, color: "#1a73e8" },
          encoding: { x: x, y: { field: "sl", type: "quantitative", title: "Service level %",
                                 scale: { domain: [0, 100] } }, tooltip: tooltip } }
      ]
    };
  }

  function heatmapSpec(data, key) {
    var grid = data.profile[key] || { sl: [], offered: [], intervals: [], meeting: [] };
    var values = [];
    grid.offered.forEach(function (offered, cell) {
      if (offered === null) { return; }
      var slot = cell % data.times.length;
      values.push({ day: WEEKDAYS[(cell - slot) / data.times.length], time: data.times[slot], sl: grid.sl[cell],
                    offered: offered, intervals: grid.intervals[cell], meeting: grid.meeting[cell] });
    });
    var target = data.targets[key];
    return {
      width: "container", height: 200, data: { values: values },
      mark: { type: "rect", tooltip: true },
      encoding: {
        // every time of day and weekday of the period, so that a queue's quiet hours show as gaps
        x: { field: "time", type: "ordinal", scale: { domain: data.times }, title: "Local time of day",
             axis: { labelAngle: -90 } },
        y: { field: "day", type: "ordinal", scale: { domain: WEEKDAYS }, title: null },
        color: { field: "sl", type: "quantitative", title: "SL %",
                 scale: { scheme: "redyellowgreen", domain: [0, 100], domainMid: target === null ? 80 : target } },
        tooltip: [
          { field: "day", type: "nominal", title: "Weekday" },
          { field: "time", type: "nominal", title: "Local time" },
          { field: "sl", type: "quantitative", title: "SL %", format: ".2f" },
          { field: "offered", type: "quantitative", title: "Offered", format: "," },
          { field: "intervals", type: "quantitative", title: "Intervals with volume" },
          { field: "meeting", type: "quantitative", title: "Meeting target" }
        ]
      }
    };
  }

  var data = null;
  var options = { renderer: "svg", actions: false };
  function draw(key) {
    if (!data) { return; }
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.classList.toggle("selected", row.dataset.key === key);
    });
    document.documentElement.removeAttribute("data-charts");
    Promise.all([
      vegaEmbed("#daily-chart", dailySpec(data, key), options),
      vegaEmbed("#heatmap-chart", heatmapSpec(data, key), options)
    ]).then(function () {
      document.documentElement.setAttribute("data-charts", key);  // browser tests wait for this
    }, function (error) { console.error("chart failed: " + error); });
  }
  select.addEventListener("change", function () { draw(select.value); });
  unpack().then(function (unpacked) { data = unpacked; draw(select.value); },
                function (error) { console.error("chart data unreadable: " + error); });
})();
