// The recsys admin dashboard: every panel reads a JSON endpoint backed by the
// SQL views analysts use; the events chart grows live over /admin/stream.
// No build step; the one library is uPlot (static/vendor/uplot, MIT).
"use strict";

const $ = (id) => document.getElementById(id);
const charts = {};
let socket = null;
let retry = 500;
let liveEvents = 0;
// Events per minute: minute start (seconds since the epoch) -> count.
const perMinute = new Map();

// With authentication on (REC_API_KEYS) every call carries the admin key typed
// in the header; the socket takes it as ?api_key= (browsers cannot set headers).
function apiKey() { return $("key").value.trim(); }

function say(text) {
  $("message").hidden = !text;
  $("message").textContent = text || "";
}

async function api(path, options = {}) {
  const key = apiKey();
  const headers = { ...(options.headers || {}) };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...options, headers });
  const body = await response.json();
  if (!response.ok) {
    say(`${path}: ${body.error ? body.error.message : response.status}`);
    throw new Error(`${path}: ${response.status}`);
  }
  return body;
}

function cell(value, numeric = false) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "–" : String(value);
  if (numeric) td.className = "num";
  return td;
}

function fill(tableId, rows, columns) {
  // columns: [key or function, numeric?]
  const body = $(tableId).tBodies[0];
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const [get, numeric] of columns) {
      tr.append(cell(typeof get === "function" ? get(row) : row[get], numeric));
    }
    return tr;
  }));
  return body;
}

function pairs(tableId, object) {
  fill(tableId, Object.entries(object), [[(e) => e[0]], [(e) => e[1]]]);
}

function pct(x) { return x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`; }
function num(x) { return x === null || x === undefined ? "–" : Number(x).toLocaleString(); }

function chart(id, series, data, options = {}) {
  const target = $(id);
  if (charts[id]) charts[id].destroy();
  const width = Math.max(target.clientWidth, 320);
  charts[id] = new uPlot({ width, height: 220, series: [{}, ...series], ...options }, data, target);
  target.dataset.points = String(data[0].length);
  return charts[id];
}

// ---------------------------------------------------------------- overview

async function loadOverview() {
  const [overview, minutes] = await Promise.all([
    api("/admin/overview?days=30&top=10"),
    api("/admin/events-per-minute?minutes=60"),
  ]);
  $("tenant").textContent = `· ${overview.tenant}`;
  const c = overview.counts;
  $("count-items").textContent = num(c.items);
  $("count-users").textContent = num(c.users);
  $("count-events").textContent = num(c.last_event_id);
  $("count-lists").textContent = num(c.lists_estimate);
  const a = overview.active_users;
  $("active-users").textContent = `${num(a.last_5_minutes)} · ${num(a.last_hour)} · ${num(a.last_day)}`;
  perMinute.clear();
  for (const row of minutes.minutes) {
    const t = Date.parse(row.minute) / 1000;
    perMinute.set(t, (perMinute.get(t) || 0) + row.events);
  }
  drawMinutes();
  const days = overview.daily_activity;
  chart("chart-daily", [
    { label: "events", stroke: "#2f6fde" },
    { label: "users", stroke: "#1f9d55" },
    { label: "purchases", stroke: "#c53030" },
  ], [days.map((d) => Date.parse(d.day) / 1000), days.map((d) => d.events),
      days.map((d) => d.users), days.map((d) => d.purchases)]);
  drawFunnel(overview.funnel);
  fill("top-items", overview.top_items, [
    ["product_id"], ["title"], ["users", true], ["views", true], ["add_to_carts", true],
    ["purchases", true], [(r) => pct(r.view_to_cart), true], [(r) => pct(r.cart_to_purchase), true],
  ]);
  $("overview").dataset.loaded = "true";
}

function drawMinutes() {
  const now = Math.floor(Date.now() / 60000) * 60;
  const xs = [];
  const ys = [];
  for (let t = now - 59 * 60; t <= now; t += 60) { xs.push(t); ys.push(perMinute.get(t) || 0); }
  chart("chart-minutes", [{ label: "events", stroke: "#2f6fde", fill: "rgba(47,111,222,.12)" }], [xs, ys]);
}

function drawFunnel(f) {
  const steps = [["views", f.views, null], ["add to cart", f.add_to_carts, f.view_to_cart],
    ["purchases", f.purchases, f.cart_to_purchase]];
  const top = Math.max(f.views, 1);
  $("funnel").replaceChildren(...steps.map(([what, n, rate]) => {
    const row = document.createElement("div");
    row.className = "funnel-step";
    const label = document.createElement("span");
    label.className = "what";
    label.textContent = `${what} ${num(n)}`;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round(60 * n / top)}%`;
    const r = document.createElement("span");
    r.className = "rate";
    r.textContent = rate === null ? "" : `${pct(rate)} of the step before`;
    row.append(label, bar, r);
    return row;
  }));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const key = apiKey();
  const query = key ? `?api_key=${encodeURIComponent(key)}` : "";
  socket = new WebSocket(`${scheme}://${location.host}/admin/stream${query}`);
  socket.keyUsed = key;
  $("live").dataset.state = "connecting";
  $("live").textContent = "connecting…";
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.event === "subscribed") {
      retry = 500;
      $("live").dataset.state = "live";
      $("live").textContent = "live";
    } else if (message.event === "activity") {
      const t = Math.floor(Date.parse(message.data.at) / 60000) * 60;
      perMinute.set(t, (perMinute.get(t) || 0) + message.data.events);
      liveEvents += message.data.events;
      $("live-events").textContent = num(liveEvents);
      drawMinutes();
    }
  };
  socket.onclose = () => {
    $("live").dataset.state = "disconnected";
    $("live").textContent = "disconnected";
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

// ------------------------------------------------------------------ models

async function loadModels() {
  const { runs } = await api("/admin/models");
  const body = fill("runs", runs, [
    ["id", true], ["kind"], ["role"], [(r) => (r.active ? "active" : r.status)],
    [(r) => (r.trained_at || r.started_at || "").replace("T", " ").slice(0, 19)],
    [(r) => (r.duration_s === null ? "–" : `${r.duration_s.toFixed(1)}s`), true],
    [(r) => (r.status === "failed" ? r.error : metricsText(r.metrics))],
    [() => ""],
  ]);
  runs.forEach((run, i) => {
    const tr = body.rows[i];
    tr.dataset.runId = String(run.id);
    if (run.active) tr.classList.add("active");
    if (run.status === "ready" && !run.active) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "activate";
      button.textContent = "Activate";
      button.onclick = async () => {
        await api(`/admin/models/${run.id}/activate`, { method: "POST" });
        say(`run ${run.id} (${run.kind}) is the active ${run.role} model`);
        await loadModels();
      };
      tr.lastChild.append(button);
    }
  });
  $("models").dataset.loaded = "true";
}

function metricsText(metrics) {
  const shown = Object.entries(metrics || {})
    .filter(([, v]) => typeof v === "number")
    .slice(0, 6)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`);
  return shown.join(", ") || "not validated";
}

// ------------------------------------------------------------- experiments

async function loadExperiments() {
  const [{ experiments }, cases, positions] = await Promise.all([
    api("/admin/experiments"), api("/admin/loop?by=case"), api("/admin/loop?by=position"),
  ]);
  const body = fill("experiment-list", experiments, [
    ["name"], ["mode"], ["status"],
    [(e) => e.arms.map((a) => `${a.name}=${a.case}${a.method ? ":" + a.method : ""}`).join(", ")],
  ]);
  experiments.forEach((experiment, i) => {
    const tr = body.rows[i];
    tr.dataset.name = experiment.name;
    tr.style.cursor = "pointer";
    tr.onclick = () => showReport(experiment.name, tr);
  });
  fill("loop-cases", cases.rows, [
    ["case_name"], ["method"], ["lists", true], ["impressions", true], ["clicks", true],
    ["purchases", true], [(r) => pct(r.ctr), true], [(r) => pct(r.conversion), true],
  ]);
  const labels = cases.rows.map((r) => r.case_name + (r.method ? ":" + r.method : ""));
  chart("chart-cases", [{ label: "CTR %", stroke: "#2f6fde", paths: uPlot.paths.bars({ size: [0.6] }), fill: "rgba(47,111,222,.4)", points: { show: false } }],
    [labels.map((_, i) => i), cases.rows.map((r) => 100 * (r.ctr || 0))],
    {
      // Half a bar of room either side, one tick per case.
      scales: { x: { time: false, range: () => [-0.5, labels.length - 0.5] } },
      axes: [{ splits: () => labels.map((_, i) => i), values: (u, ticks) => ticks.map((t) => labels[t] || "") }, {}],
    });
  const rows = positions.rows.filter((r) => r.position !== null);
  chart("chart-positions", [{ label: "CTR %", stroke: "#1f9d55" }],
    [rows.map((r) => r.position), rows.map((r) => 100 * (r.ctr || 0))],
    { scales: { x: { time: false } } });
  if (experiments.length) await showReport(experiments[0].name, body.rows[0]);
  $("experiments").dataset.loaded = "true";
}

async function showReport(name, tr) {
  for (const row of $("experiment-list").tBodies[0].rows) row.classList.remove("selected");
  tr.classList.add("selected");
  const report = await api(`/admin/experiments/${encodeURIComponent(name)}/report`);
  $("report-name").textContent = `${report.experiment} · ${report.mode} · ${report.status}`;
  const table = document.createElement("table");
  table.id = "report-arms";
  table.createTHead().append(headerRow(["arm", "strategy", "users", "impressions", "CTR", "user click rate", "uplift (95% CI)", "p"]));
  const body = table.createTBody();
  const byArm = new Map(report.comparisons.map((c) => [c.arm, c.click_rate]));
  for (const arm of report.arms) {
    const tr = document.createElement("tr");
    const up = byArm.get(arm.name);
    tr.append(cell(arm.name), cell(arm.case + (arm.method ? ":" + arm.method : "")),
      cell(num(arm.users), true), cell(num(arm.impressions), true), cell(pct(arm.ctr), true),
      cell(pct(arm.user_click_rate), true),
      cell(up ? `${pct(up.difference)} (${pct(up.low)} … ${pct(up.high)})` : "control", true),
      cell(up && up.p_value !== null ? up.p_value.toPrecision(2) : "–", true));
    if (report.winner === arm.name) tr.classList.add("winner");
    body.append(tr);
  }
  const verdict = document.createElement("p");
  verdict.id = "verdict";
  verdict.className = report.winner ? "winner" : "meta";
  verdict.textContent = report.verdict;
  $("report").replaceChildren(table, verdict);
}

function headerRow(names) {
  const tr = document.createElement("tr");
  for (const name of names) {
    const th = document.createElement("th");
    th.textContent = name;
    tr.append(th);
  }
  return tr;
}

// ---------------------------------------------------------------- settings

async function loadSettings() {
  const [settings, types] = await Promise.all([api("/admin/settings"), api("/admin/event-types")]);
  pairs("tunables", settings.tunables);
  pairs("service", settings.service);
  fill("event-types", types.event_types || [], [
    ["name"], ["kind"], ["weight", true], ["uses_value"], ["conversion"],
  ]);
  fill("strategies", settings.strategies, [["name"], [(s) => s.needs.join(" or ") || "–"], ["summary"]]);
  $("settings").dataset.loaded = "true";
}

// -------------------------------------------------------------------- tabs

const loaders = { overview: loadOverview, models: loadModels, experiments: loadExperiments, settings: loadSettings };

async function show(panel) {
  for (const button of $("tabs").children) button.classList.toggle("active", button.dataset.panel === panel);
  for (const section of document.querySelectorAll(".panel")) section.hidden = section.id !== panel;
  location.hash = panel;
  say("");
  try { await loaders[panel](); } catch (error) { console.warn(error); }
}

for (const button of $("tabs").children) button.onclick = () => show(button.dataset.panel);
$("key").value = localStorage.getItem("recsys.adminKey") || "";
$("auth").onsubmit = (event) => {
  event.preventDefault();
  localStorage.setItem("recsys.adminKey", apiKey());
  if (socket && socket.keyUsed !== apiKey()) socket.close();
  show(document.querySelector("#tabs .active").dataset.panel);
};
const first = location.hash.slice(1);
show(first in loaders ? first : "overview").then(connect);
