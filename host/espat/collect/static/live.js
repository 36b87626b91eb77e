// The live page: each device's last reading and a chart per value, fed by /api/events (server-sent events).
// The x axis is time: each reading sits where it was taken (taken_at, which the board's age_ms moves back from
// its arrival), so readings that never arrived leave a gap as wide as the time they would have filled, marked in
// red. Units come from the reading contract's unit table (/api/contract), by a name's suffix.
"use strict";

const MAX_POINTS = 300;
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
  .map(s => s * 1000);
const COLOURS = ["#2060c0", "#c06020", "#209060", "#8040b0", "#b03060", "#607080"];
const devices = new Map();   // name -> {rows (by time taken), last (by id), el, charts, missing}
let lastId = 0;
let units = [];              // [[suffix, unit]], the longest suffix first
let resetCauses = {};        // bit -> name (contract: diag.reset_cause_bits)

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function unitOf(name) {
  const found = units.find(([suffix]) => name.endsWith(suffix));
  return found ? found[1] : "";
}

function withUnit(value, name) {
  const unit = unitOf(name);
  const text = Number(Number(value).toPrecision(6)).toString();
  return unit ? `${text} ${unit}` : text;
}

function taken(row) { return Date.parse(row.taken_at || row.received_at); }

function sameRun(a, b) { return a.incarnation === b.incarnation && a.boot === b.boot; }

function gapsOf(rows) {
  const gaps = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1], b = rows[i];
    if (sameRun(a, b) && b.seq > a.seq + 1) gaps.push({ index: i, first: a.seq + 1, last: b.seq - 1 });
  }
  return gaps;
}

function clock(ms, withDate) {
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, ms % 60000 ? 19 : 16);
}

function deviceCard(name) {
  let d = devices.get(name);
  if (d) return d;
  document.getElementById("empty").hidden = true;
  const card = el("section", "device");
  card.dataset.device = name;
  const title = el("h2");
  title.append(el("span", "name", name), el("span", "meta when"));
  card.append(title, el("div", "meta run"), el("div", "meta diag"), el("div", "values"), el("div", "gaps"),
              el("div", "charts"));
  const main = document.getElementById("devices");
  const after = [...main.querySelectorAll(".device")].find(c => c.dataset.device > name);
  main.insertBefore(card, after || null);
  d = { rows: [], last: null, el: card, charts: new Map(), missing: 0 };
  devices.set(name, d);
  return d;
}

function chartFor(d, key) {
  let c = d.charts.get(key);
  if (c) return c;
  const box = el("div");
  const unit = unitOf(key);
  const label = el("div", "chart-label", unit ? `${key} (${unit})` : key);
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
  const w = canvas.clientWidth || 440, h = canvas.clientHeight || 130;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const pts = rows.map((r, i) => [i, r.readings[key]]).filter(p => typeof p[1] === "number");
  canvas.dataset.points = String(pts.length);
  if (!pts.length) return;
  let lo = Math.min(...pts.map(p => p[1])), hi = Math.max(...pts.map(p => p[1]));
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  let t0 = taken(rows[0]), t1 = taken(rows[rows.length - 1]);
  if (t1 - t0 < 1000) { t0 -= 30000; t1 += 30000; }
  const left = 64, right = 10, top = 6, bottom = 18;
  const x = i => left + (taken(rows[i]) - t0) * (w - left - right) / (t1 - t0);
  const y = v => top + (hi - v) * (h - top - bottom) / (hi - lo);
  g.strokeStyle = "#e4e8ee"; g.fillStyle = "#66707d"; g.font = "10px system-ui, sans-serif"; g.lineWidth = 1;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(w - right, y(v)); g.stroke();
    g.fillText(withUnit(Number(v.toPrecision(4)), key), 2, y(v) + 3);
  }
  // the time axis: ticks on round times (every 10 s, 5 min, 1 h, ...), labelled in UTC
  const span = t1 - t0, withDate = span > 86400000;
  const most = Math.max(2, Math.floor((w - left - right) / 80));
  const step = TICK_STEPS.find(s => span / s <= most) || Math.ceil(span / most / 86400000) * 86400000;
  g.strokeStyle = "#e4e8ee";
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const px = left + (t - t0) * (w - left - right) / span;
    g.beginPath(); g.moveTo(px, top); g.lineTo(px, h - bottom); g.stroke();
    const text = clock(t, withDate), tw = g.measureText(text).width;
    g.fillText(text, Math.min(Math.max(px - tw / 2, left), w - right - tw), h - 4);
  }
  // gaps: a red band over the time the missing readings would have filled
  g.fillStyle = "rgba(208,52,44,0.18)"; g.strokeStyle = "#d0342c";
  const bands = [];
  for (const gap of gaps) {
    const x0 = x(gap.index - 1), x1 = x(gap.index);
    bands.push([Math.round(x0 * 10) / 10, Math.round(x1 * 10) / 10]);
    g.fillRect(x0, top, Math.max(2, x1 - x0), h - top - bottom);
    g.beginPath(); g.setLineDash([3, 3]); g.moveTo((x0 + x1) / 2, top); g.lineTo((x0 + x1) / 2, h - bottom);
    g.stroke(); g.setLineDash([]);
  }
  canvas.dataset.bands = JSON.stringify(bands);
  canvas.dataset.series = JSON.stringify(pts.map(([i, v]) => [Math.round(x(i) * 10) / 10, v]));
  const breaks = new Set(gaps.map(gp => gp.index));
  g.strokeStyle = colour; g.lineWidth = 1.6; g.beginPath();
  pts.forEach(([i, v], n) => {
    if (n === 0 || breaks.has(i) || !sameRun(rows[i - 1] || rows[i], rows[i])) g.moveTo(x(i), y(v));
    else g.lineTo(x(i), y(v));
  });
  g.stroke();
  g.fillStyle = colour;
  for (const [i, v] of pts) { g.beginPath(); g.arc(x(i), y(v), 2, 0, 2 * Math.PI); g.fill(); }
}

function describeDiag(diag) {
  if (!diag) return "";
  const parts = [];
  if (diag.reset_cause !== undefined) {
    const names = Object.entries(resetCauses).filter(([bit]) => diag.reset_cause & Number(bit)).map(([, n]) => n);
    parts.push(`last reset: ${names.length ? names.join(" + ") : diag.reset_cause}`);
  }
  if (diag.esp_reboots !== undefined) parts.push(`ESP reboots ${diag.esp_reboots}`);
  if (diag.wifi_joins !== undefined) parts.push(`Wi-Fi joins ${diag.wifi_joins}`);
  if (diag.link_failures !== undefined) parts.push(`link failures ${diag.link_failures}`);
  return parts.join(" · ");
}

function render(d) {
  const rows = d.rows, last = rows[rows.length - 1];    // the newest taken (not the last to arrive)
  const card = d.el;
  card.dataset.lastSeq = String(last.seq);
  const late = last.age_ms ? ` (sent ${(last.age_ms / 1000).toFixed(0)} s later)` : "";
  card.querySelector(".when").textContent = `taken ${new Date(taken(last)).toISOString().slice(11, 19)} UTC${late}`;
  card.querySelector(".when").title = `${last.taken_at || last.received_at} taken, ${last.received_at} received`;
  card.querySelector(".run").textContent =
    `incarnation ${last.incarnation} · boot ${last.boot} · seq ${last.seq} · up ${(last.uptime_ms / 1000).toFixed(0)} s` +
    ` · dropped on board ${last.dropped}`;
  card.querySelector(".diag").textContent = describeDiag(last.diag);
  const values = card.querySelector(".values");
  values.replaceChildren(...Object.entries(last.readings).map(([k, v]) => {
    const s = el("span"); s.append(el("b", "", withUnit(v, k)), " " + k); return s;
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
  const prev = d.last;
  if (prev && prev.id >= row.id) return;  // already shown
  if (redraw && prev && sameRun(prev, row) && row.seq > prev.seq + 1) d.missing += row.seq - prev.seq - 1;
  d.last = row;
  // in the order taken (a reading held through an outage arrives late but belongs where it was taken)
  let at = d.rows.length;
  while (at > 0 && taken(d.rows[at - 1]) > taken(row)) at--;
  d.rows.splice(at, 0, row);
  if (d.rows.length > MAX_POINTS) d.rows.splice(0, d.rows.length - MAX_POINTS);
  if (redraw) render(d);
}

function setStatus(state, text) {
  const s = document.getElementById("status");
  s.dataset.state = state; s.textContent = text;
}

async function start() {
  try {
    const contract = await (await fetch("/api/contract")).json();
    units = Object.entries(contract.units).map(([suffix, u]) => [suffix, u.unit])
      .sort((a, b) => b[0].length - a[0].length);
    resetCauses = contract.diag.reset_cause_bits || {};
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
