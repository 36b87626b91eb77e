// The live page: each device's last reading and a chart per value, fed by /api/events (server-sent events).
// A gap (seqs missing within one incarnation+boot) breaks the line and is marked in red.
"use strict";

const MAX_POINTS = 300;
const COLOURS = ["#2060c0", "#c06020", "#209060", "#8040b0", "#b03060", "#607080"];
const devices = new Map();   // name -> {rows, el}
let lastId = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function sameRun(a, b) { return a.incarnation === b.incarnation && a.boot === b.boot; }

function gapsOf(rows) {
  const gaps = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1], b = rows[i];
    if (sameRun(a, b) && b.seq > a.seq + 1) gaps.push({ index: i, first: a.seq + 1, last: b.seq - 1 });
  }
  return gaps;
}

function deviceCard(name) {
  let d = devices.get(name);
  if (d) return d;
  document.getElementById("empty").hidden = true;
  const card = el("section", "device");
  card.dataset.device = name;
  const title = el("h2");
  title.append(el("span", "name", name), el("span", "meta when"));
  card.append(title, el("div", "meta run"), el("div", "values"), el("div", "gaps"), el("div", "charts"));
  const main = document.getElementById("devices");
  const after = [...main.querySelectorAll(".device")].find(c => c.dataset.device > name);
  main.insertBefore(card, after || null);
  d = { rows: [], el: card, charts: new Map(), missing: 0 };
  devices.set(name, d);
  return d;
}

function chartFor(d, key) {
  let c = d.charts.get(key);
  if (c) return c;
  const box = el("div");
  const label = el("div", "chart-label", key);
  const canvas = el("canvas");
  canvas.dataset.value = key;
  box.append(label, canvas);
  d.el.querySelector(".charts").append(box);
  c = { canvas, label };
  d.charts.set(key, c);
  return c;
}

function draw(d, key, colour, gaps) {
  const { canvas } = chartFor(d, key);
  const rows = d.rows;
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 440, h = canvas.clientHeight || 110;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const pts = rows.map((r, i) => [i, r.readings[key]]).filter(p => typeof p[1] === "number");
  canvas.dataset.points = String(pts.length);
  if (!pts.length) return;
  let lo = Math.min(...pts.map(p => p[1])), hi = Math.max(...pts.map(p => p[1]));
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const left = 48, right = 8, top = 6, bottom = 16;
  const x = i => left + (rows.length < 2 ? (w - left - right) / 2 : i * (w - left - right) / (rows.length - 1));
  const y = v => top + (hi - v) * (h - top - bottom) / (hi - lo);
  g.strokeStyle = "#e4e8ee"; g.fillStyle = "#66707d"; g.font = "10px system-ui, sans-serif"; g.lineWidth = 1;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(w - right, y(v)); g.stroke();
    g.fillText(Number(v.toPrecision(4)).toString(), 2, y(v) + 3);
  }
  // gaps: a red band between the readings either side of the missing seqs
  g.fillStyle = "rgba(208,52,44,0.18)"; g.strokeStyle = "#d0342c";
  for (const gap of gaps) {
    const x0 = x(gap.index - 1), x1 = x(gap.index);
    g.fillRect(x0, top, Math.max(2, x1 - x0), h - top - bottom);
    g.beginPath(); g.setLineDash([3, 3]); g.moveTo((x0 + x1) / 2, top); g.lineTo((x0 + x1) / 2, h - bottom);
    g.stroke(); g.setLineDash([]);
  }
  const breaks = new Set(gaps.map(gp => gp.index));
  g.strokeStyle = colour; g.lineWidth = 1.6; g.beginPath();
  pts.forEach(([i, v], n) => {
    if (n === 0 || breaks.has(i) || !sameRun(rows[i - 1] || rows[i], rows[i])) g.moveTo(x(i), y(v));
    else g.lineTo(x(i), y(v));
  });
  g.stroke();
  g.fillStyle = colour;
  for (const [i, v] of pts) { g.beginPath(); g.arc(x(i), y(v), 2, 0, 2 * Math.PI); g.fill(); }
  g.fillStyle = "#66707d";
  const first = rows[0].received_at.slice(11, 19), last = rows[rows.length - 1].received_at.slice(11, 19);
  g.fillText(first, left, h - 3);
  g.fillText(last, w - right - g.measureText(last).width, h - 3);
}

function render(d) {
  const rows = d.rows, last = rows[rows.length - 1];
  const card = d.el;
  card.dataset.lastSeq = String(last.seq);
  card.querySelector(".when").textContent = last.received_at.replace("T", " ").slice(0, 19) + " UTC";
  card.querySelector(".run").textContent =
    `incarnation ${last.incarnation} · boot ${last.boot} · seq ${last.seq} · up ${(last.uptime_ms / 1000).toFixed(0)} s` +
    ` · dropped on board ${last.dropped}`;
  const values = card.querySelector(".values");
  values.replaceChildren(...Object.entries(last.readings).map(([k, v]) => {
    const s = el("span"); s.append(el("b", "", String(v)), " " + k); return s;
  }));
  const gaps = gapsOf(rows);
  card.dataset.gaps = String(gaps.length);
  card.dataset.missing = String(d.missing);
  const shown = gaps.slice(-4).map(gp => gp.first === gp.last ? `seq ${gp.first}` : `seq ${gp.first}–${gp.last}`);
  card.querySelector(".gaps").textContent = (gaps.length
    ? `missing: ${shown.join(", ")}${gaps.length > 4 ? ` (+${gaps.length - 4} more)` : ""}` : "") +
    (d.missing ? ` · ${d.missing} reading${d.missing === 1 ? "" : "s"} never arrived in all` : "");
  const keys = [...new Set(rows.flatMap(r => Object.keys(r.readings)))].sort();
  keys.forEach((k, i) => draw(d, k, COLOURS[i % COLOURS.length], gaps));
}

function add(row, redraw = true) {
  lastId = Math.max(lastId, row.id);
  const d = deviceCard(row.device);
  const prev = d.rows[d.rows.length - 1];
  if (prev && prev.id >= row.id) return;  // already shown
  if (redraw && prev && sameRun(prev, row) && row.seq > prev.seq + 1) d.missing += row.seq - prev.seq - 1;
  d.rows.push(row);
  if (d.rows.length > MAX_POINTS) d.rows.splice(0, d.rows.length - MAX_POINTS);
  if (redraw) render(d);
}

function setStatus(state, text) {
  const s = document.getElementById("status");
  s.dataset.state = state; s.textContent = text;
}

async function start() {
  try {
    const summary = await (await fetch("/api/devices")).json();
    for (const dev of summary.devices) {
      const res = await (await fetch(`/api/readings?device=${encodeURIComponent(dev.device)}&tail=${MAX_POINTS}`)).json();
      for (const row of res.readings) add(row, false);
      const d = deviceCard(dev.device);
      d.missing = dev.missing_count;   // over every boot, not only the readings charted here
      render(d);
    }
  } catch (e) {
    setStatus("down", "could not load readings: " + e);
  }
  const events = new EventSource(`/api/events?after=${lastId}`);
  events.addEventListener("reading", e => add(JSON.parse(e.data)));
  events.onopen = () => setStatus("live", "live");
  events.onerror = () => setStatus("down", "reconnecting…");
  window.addEventListener("resize", () => devices.forEach(render));
}

start();
