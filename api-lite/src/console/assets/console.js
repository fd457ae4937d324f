// Tarefa ops console: live numbers without reloading. Polls /console/live/queues
// every 2 s, updates every element with data-live="<queue>.<field>", and redraws
// the sparklines (jobs finished per minute and mean wait over the last hour).
// No dependencies, no CDN.
(function () {
  "use strict";
  var series = {};
  function draw(canvas, data) {
    var ctx = canvas.getContext && canvas.getContext("2d");
    if (!ctx || !data || data.length < 2) return;
    var w = canvas.width, hgt = canvas.height, max = Math.max.apply(null, data.concat([1]));
    ctx.clearRect(0, 0, w, hgt);
    ctx.beginPath();
    data.forEach(function (v, i) {
      var x = (i / (data.length - 1)) * (w - 2) + 1, y = hgt - 1 - (v / max) * (hgt - 2);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = "#2a6f97";
    ctx.stroke();
  }
  function apply(snap) {
    snap.queues.forEach(function (s) {
      var q = s.queue;
      var values = {
        queued: s.queued, scheduled: s.scheduled, running: s.running, retrying: s.retrying,
        dead: s.dead, succeeded: s.succeeded, cancelled: s.cancelled, workers: s.workers,
        hour_succeeded: s.last_hour.succeeded, hour_retried: s.last_hour.retried, hour_dead: s.last_hour.dead,
        paused: s.paused ? "paused" : "running",
        oldest_waiting_s: Math.floor((s.oldest_waiting_ms || 0) / 1000)
      };
      Object.keys(values).forEach(function (f) {
        document.querySelectorAll('[data-live="' + q + "." + f + '"]').forEach(function (el) {
          if (el.textContent !== String(values[f])) el.textContent = values[f];
        });
      });
      series[q + ".throughput"] = s.throughput;
      series[q + ".wait"] = s.wait;
    });
    document.querySelectorAll("canvas[data-spark]").forEach(function (c) {
      draw(c, series[c.getAttribute("data-spark")]);
    });
  }
  function poll() {
    fetch("/console/live/queues", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (r.status === 401) { window.location = "/console/login"; return null; } return r.ok ? r.json() : null; })
      .then(function (j) { if (j) { apply(j); document.body.setAttribute("data-live-updated", String(Date.now())); } })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  document.addEventListener("click", function (e) {
    var msg = e.target && e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  if (document.querySelector("[data-live]")) poll();
})();
