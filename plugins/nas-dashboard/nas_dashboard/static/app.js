// nas dashboard: one page, hash routes, polls the summary every second and redraws what changed.
"use strict";

const POLL_MS = 1000;
const state = {
  experiments: [],      // summaries from /api/experiments
  route: null,          // {view, exp, trial}
  tokens: {},           // exp index -> change token last drawn
  table: {sort: "id", order: "desc", status: "", q: "", offset: 0, limit: 50},
  pareto: {},           // exp index -> {x, y}
  busy: false,
};

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const fmt = (v) => {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4));
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
};
const fmtSeconds = (s) => {
  if (s === null || s === undefined) return "–";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.round(s % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${s.toFixed(1)} s`;
};
const sampleText = (sample) => Object.entries(sample).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("  ");

async function getJSON(url) {
  const r = await fetch(url, {cache: "no-store", credentials: "same-origin"});
  const body = await r.json().catch(() => ({error: `${r.status} ${r.statusText}`}));
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

// -- routing -------------------------------------------------------------------------------------
function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts[0] === "compare") return {view: "compare"};
  if (parts[0] === "exp" && parts.length >= 2) {
    const exp = Number(parts[1]);
    if (parts[2] === "trial") return {view: "trial", exp, trial: Number(parts[3])};
    return {view: parts[2] || "overview", exp};
  }
  return {view: "home"};
}

const VIEWS = [["overview", "Overview"], ["pareto", "Pareto"], ["progress", "Best so far"], ["labels", "Labels"], ["oneshot", "One-shot"]];

function drawNav() {
  const r = state.route;
  $("#experiments").innerHTML = state.experiments.map((e) =>
    `<a href="#/exp/${e.index}" class="${r.exp === e.index ? "active" : ""}">${esc(e.name)}</a>`).join("");
  $("#compare-link").className = r.view === "compare" ? "active" : "";
  $("#compare-link").style.display = state.experiments.length > 1 ? "" : "none";
  if (r.exp === undefined) { $("#views").innerHTML = ""; return; }
  const e = state.experiments[r.exp];
  $("#views").innerHTML = VIEWS.filter(([v]) => v !== "oneshot" || (e && e.oneshot)).map(([v, title]) =>
    `<a id="tab-${v}" href="#/exp/${r.exp}/${v}" class="${r.view === v ? "active" : ""}">${title}</a>`).join("");
}

async function route() {
  state.route = parseRoute();
  if (state.route.view === "home") {
    // one experiment (or the first of several): open straight on its overview
    if (state.experiments.length) { location.replace(`#/exp/0`); return; }
  }
  drawNav();
  await draw(true);
}

async function draw(fresh) {
  const r = state.route;
  const main = $("#main");
  try {
    if (r.view === "compare") return await drawCompare(main, fresh);
    const e = state.experiments[r.exp];
    if (!e) { main.innerHTML = `<p class="notice">no experiment #${esc(r.exp)}</p>`; return; }
    if (r.view === "overview") return await drawOverview(main, r.exp, fresh);
    if (r.view === "trial") return await drawTrial(main, r.exp, r.trial);
    if (r.view === "pareto") return await drawPareto(main, r.exp, fresh);
    if (r.view === "progress") return await drawProgress(main, r.exp, fresh);
    if (r.view === "labels") return await drawLabels(main, r.exp, fresh);
    if (r.view === "oneshot") return await drawOneShot(main, r.exp, fresh);
    main.innerHTML = `<p class="notice">unknown view ${esc(r.view)}</p>`;
  } catch (err) {
    main.innerHTML = `<p class="notice">${esc(err.message)}</p>`;
  }
}

// -- overview: progress and the trial table ------------------------------------------------------
function progressCards(s) {
  const budget = s.max_trials ? `${s.done} / ${s.max_trials}` : `${s.done}`;
  const pct = s.max_trials ? Math.min(100, 100 * s.done / s.max_trials) : 0;
  const [metric] = s.objectives[0] || ["score"];
  const best = s.best ? `<a href="#/exp/${state.route.exp}/trial/${s.best.id}">#${s.best.id}</a> ${esc(fmt(s.best.values[metric] ?? s.best.score))}` : "–";
  const counts = Object.entries(s.counts).map(([k, n]) => `<span class="status ${k}">${n} ${k}</span>`).join(" ");
  const time = s.max_duration ? `${fmtSeconds(s.time_used)} / ${fmtSeconds(s.max_duration)}` : fmtSeconds(s.time_used);
  return `<div class="cards">
    <div class="card"><div class="k">trials done${s.max_trials ? " of budget" : ""}</div><div class="v" id="progress-done">${budget}</div>
      ${s.max_trials ? `<div class="bar"><div style="width:${pct}%"></div></div>` : ""}</div>
    ${s.running ? `<div class="card"><div class="k">running now</div><div class="v" id="progress-running">${s.running}</div></div>` : ""}
    <div class="card"><div class="k">time used</div><div class="v" id="progress-time">${time}</div></div>
    <div class="card"><div class="k">best so far (${esc(s.axis_labels[metric] || metric)})</div><div class="v" id="progress-best">${best}</div></div>
    <div class="card"><div class="k">trials by status</div><div class="v" style="font-size:13px">${counts || "none yet"}</div></div>
  </div>`;
}

async function drawOverview(main, exp, fresh) {
  const s = state.experiments[exp];
  if (fresh || !$("#trial-table")) {
    main.innerHTML = `<h1>${esc(s.name)} <span class="muted" style="font-size:13px">${esc(s.strategy || "")} · ${esc(s.workdir)}</span></h1>
      <div class="overview-top"><div id="cards"></div><div class="plot" id="overview-best"></div></div>
      <div class="controls">
        <label>status <select id="status-filter"><option value="">all</option>${
          s.statuses.map((x) => `<option>${x}</option>`).join("")}</select></label>
        <input id="search" type="search" placeholder="search samples: conv3x3, or label=value">
        <label>rows <select id="page-size">${[25, 50, 100, 200].map((n) => `<option ${n === state.table.limit ? "selected" : ""}>${n}</option>`).join("")}</select></label>
        <button id="prev">‹ prev</button><button id="next">next ›</button>
        <span id="pager-info" class="muted"></span>
      </div>
      <p id="table-error" class="error-line"></p>
      <table id="trial-table"><thead></thead><tbody></tbody></table>`;
    const t = state.table;
    $("#status-filter").value = t.status;
    $("#search").value = t.q;
    $("#status-filter").onchange = (ev) => { t.status = ev.target.value; t.offset = 0; drawTable(exp); };
    let timer = null;
    $("#search").oninput = (ev) => { clearTimeout(timer); timer = setTimeout(() => { t.q = ev.target.value; t.offset = 0; drawTable(exp); }, 250); };
    $("#page-size").onchange = (ev) => { t.limit = Number(ev.target.value); t.offset = 0; drawTable(exp); };
    $("#prev").onclick = () => { t.offset = Math.max(0, t.offset - t.limit); drawTable(exp); };
    $("#next").onclick = () => { t.offset += t.limit; drawTable(exp); };
  }
  $("#cards").innerHTML = progressCards(s);
  await drawTable(exp);
  const d = await getJSON(`/api/exp/${exp}/best-so-far`);
  if (!$("#overview-best")) return;
  await Plotly.react("overview-best", [bestTraces(d, d.metric, "by_trial")], {height: 170, margin: {t: 24, r: 10, b: 30, l: 50},
    title: {text: `best ${d.label} by trial`, font: {size: 12}}, showlegend: false, uirevision: "keep"},
    {displayModeBar: false, responsive: true});
}

async function drawTable(exp) {
  const s = state.experiments[exp];
  const t = state.table;
  const params = new URLSearchParams({sort: t.sort, order: t.order, offset: t.offset, limit: t.limit});
  if (t.status) params.set("status", t.status);
  if (t.q) params.set("q", t.q);
  let page;
  try {
    page = await getJSON(`/api/exp/${exp}/trials?${params}`);
    $("#table-error").textContent = "";
  } catch (err) {  // a bad search or sort: say why, keep the last rows
    $("#table-error").textContent = err.message;
    return;
  }
  const cols = s.columns.values;
  const arrow = Object.fromEntries(s.objectives.map(([m, d]) => [m, d === "max" ? " \u2191" : " \u2193"]));
  const head = [["id", "#"], ["status", "status"], ...cols.map((c) => [c, (s.axis_labels[c] || c) + (arrow[c] || "")]), ["sample", "sample"], ["duration", "s"], ["error", "error"]];
  const table = $("#trial-table");
  if (!table) return;
  table.querySelector("thead").innerHTML = "<tr>" + head.map(([key, title]) => {
    const sortable = key !== "sample" && key !== "error";
    const cls = sortable && t.sort === key ? `sorted ${t.order}` : "";
    return `<th data-key="${esc(key)}" class="${cls}" ${sortable ? "" : 'data-nosort="1"'}>${esc(title)}</th>`;
  }).join("") + "</tr>";
  table.querySelectorAll("th").forEach((th) => {
    if (th.dataset.nosort) return;
    th.onclick = () => {
      const key = th.dataset.key;
      t.order = t.sort === key && t.order === "asc" ? "desc" : "asc";
      t.sort = key; t.offset = 0; drawTable(exp);
    };
  });
  const bestId = s.best ? s.best.id : null;
  table.querySelector("tbody").innerHTML = page.rows.map((row) => `<tr data-id="${row.id}">
      <td class="num">${row.id}${row.id === bestId ? '<span class="tag">best</span>' : ""}</td>
      <td><span class="status ${row.status}">${row.status}</span>${row.feasible || row.status !== "succeeded" ? "" : '<span class="status infeasible">infeasible</span>'}</td>
      ${cols.map((c) => `<td class="num" data-col="${esc(c)}">${esc(fmt(row.values[c]))}</td>`).join("")}
      <td class="sample">${esc(sampleText(row.sample))}</td>
      <td class="num">${esc(fmt(row.duration))}</td>
      <td class="err">${esc(row.error || "")}</td></tr>`).join("") ||
    `<tr><td colspan="${head.length}" class="muted">no trial matches</td></tr>`;
  table.querySelectorAll("tbody tr[data-id]").forEach((tr) => {
    tr.onclick = () => { location.hash = `#/exp/${exp}/trial/${tr.dataset.id}`; };
  });
  const last = Math.min(page.total, t.offset + page.rows.length);
  $("#pager-info").textContent = page.total ? `${t.offset + 1}–${last} of ${page.total}` : "0 trials";
  $("#prev").disabled = t.offset === 0;
  $("#next").disabled = last >= page.total;
}

// -- one trial -----------------------------------------------------------------------------------
async function drawTrial(main, exp, id) {
  const t = await getJSON(`/api/exp/${exp}/trials/${id}`);
  const unit = (m) => m.unit ? ` <span class="muted">${esc(m.unit)}</span>` : "";
  const kv = (items) => `<dl class="kv">${items.map((m) => `<dt>${esc(m.name)}</dt><dd>${esc(fmt(m.value))}${unit(m)}</dd>`).join("") || "<dt>none</dt><dd></dd>"}</dl>`;
  main.innerHTML = `<h1 id="trial-title">Trial #${t.id} <span class="status ${t.status}">${t.status}</span>${t.feasible || t.status !== "succeeded" ? "" : ' <span class="status infeasible">infeasible</span>'}
      ${t.is_best ? '<span class="tag">best</span>' : ""}${t.on_pareto ? '<span class="tag pareto">Pareto set</span>' : ""}</h1>
    <a class="download" id="download-arch" href="/api/exp/${exp}/trials/${t.id}/architecture.json" download>Download architecture JSON</a>
    <div class="grid2">
      <div><h2>Sample</h2><dl class="kv" id="trial-sample">${Object.entries(t.sample).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "string" ? v : JSON.stringify(v))}</dd>`).join("")}</dl></div>
      <div><h2>Metrics</h2><div id="trial-metrics">${kv(t.metrics)}</div><h2>Costs</h2><div id="trial-costs">${kv(t.costs)}</div></div>
    </div>
    <h2>Run</h2><dl class="kv"><dt>score</dt><dd>${esc(fmt(t.score))}</dd><dt>duration</dt><dd>${esc(fmt(t.duration))} s</dd>
      <dt>worker</dt><dd>${esc(t.worker || "")}</dd><dt>attempts</dt><dd>${t.attempts}</dd>
      <dt>finished</dt><dd>${new Date(t.finished * 1000).toLocaleString()}</dd></dl>
    ${t.error ? `<h2>Error</h2><pre class="error" id="trial-error">${esc(t.error)}</pre>` : ""}
    <div id="curve"></div>`;
  if (t.learning_curve && t.learning_curve.length) {
    $("#curve").innerHTML = '<h2>Learning curve</h2><div class="plot" id="curve-plot"></div>';
    const steps = t.learning_curve.map((p) => p.step);
    const names = [...new Set(t.learning_curve.flatMap((p) => Object.keys(p.metrics)))];
    const traces = names.length ? names.map((m) => ({x: steps, y: t.learning_curve.map((p) => p.metrics[m] ?? null), mode: "lines+markers", name: m}))
      : [{x: steps, y: t.learning_curve.map((p) => p.value), mode: "lines+markers", name: "objective"}];
    Plotly.newPlot("curve-plot", traces, {margin: {t: 20, r: 20, b: 45, l: 60}, height: 300, xaxis: {title: {text: "step (epoch)"}},
      yaxis: {title: {text: "reported"}}}, {displaylogo: false, responsive: true});
  }
}

// -- Pareto scatter ------------------------------------------------------------------------------
function hoverText(p, s) {
  const vals = Object.entries(p.values).map(([k, v]) => `${esc(s.axis_labels[k] || k)}: ${esc(fmt(v))}`).join("<br>");
  const sample = Object.entries(p.sample).map(([k, v]) => `${esc(k)} = ${esc(typeof v === "string" ? v : JSON.stringify(v))}`).join("<br>");
  return `<b>trial #${p.id}</b>${p.feasible ? "" : " (infeasible)"}<br>${vals}<br>${sample}`;
}

async function drawPareto(main, exp, fresh) {
  const s = state.experiments[exp];
  const cols = s.columns.values;
  const sel = state.pareto[exp] || {x: cols[1] || cols[0], y: cols[0]};
  state.pareto[exp] = sel;
  if (fresh || !$("#pareto-plot")) {
    const opts = (v) => cols.map((c) => `<option value="${esc(c)}" ${c === v ? "selected" : ""}>${esc(s.axis_labels[c] || c)}</option>`).join("");
    main.innerHTML = `<h1>Pareto front</h1>
      <div class="controls"><label>x <select id="pareto-x">${opts(sel.x)}</select></label>
        <label>y <select id="pareto-y">${opts(sel.y)}</select></label>
        <label><input type="checkbox" id="pareto-logx" ${sel.logx ? "checked" : ""}> log x</label>
        <span class="muted">red: the Pareto set (directions from the objectives; costs are minimised). Click a point to open its trial.</span></div>
      <div class="plot" id="pareto-plot" style="height:560px"></div>`;
    $("#pareto-x").onchange = (ev) => { sel.x = ev.target.value; drawPareto(main, exp, false); };
    $("#pareto-y").onchange = (ev) => { sel.y = ev.target.value; drawPareto(main, exp, false); };
    $("#pareto-logx").onchange = (ev) => { sel.logx = ev.target.checked; drawPareto(main, exp, false); };
  }
  const d = await getJSON(`/api/exp/${exp}/pareto?x=${encodeURIComponent(sel.x)}&y=${encodeURIComponent(sel.y)}`);
  const onFront = new Set(d.front);
  const byId = new Map(d.points.map((p) => [p.id, p]));
  const trace = (pts, name, marker, extra = {}) => ({
    type: "scatter", mode: "markers", name, x: pts.map((p) => p.x), y: pts.map((p) => p.y), customdata: pts.map((p) => p.id),
    text: pts.map((p) => hoverText(p, s)), hovertemplate: "%{text}<extra></extra>", marker, ...extra});
  const rest = d.points.filter((p) => !onFront.has(p.id));
  const front = d.front.map((id) => byId.get(id));
  const traces = [
    trace(rest.filter((p) => p.feasible), "trials", {color: "#9aa3b2", size: 7}),
    trace(rest.filter((p) => !p.feasible), "infeasible", {color: "#9aa3b2", size: 7, symbol: "circle-open"}),
    trace(front, `Pareto set (${d.dy} ${d.y}, ${d.dx} ${d.x})`, {color: "#d6453d", size: 11, line: {color: "#1d2330", width: 1}},
      {mode: "lines+markers", line: {color: "#d6453d", shape: "hv", width: 1.5}}),
  ];
  const layout = {margin: {t: 30, r: 20, b: 55, l: 70}, hovermode: "closest", xaxis: {title: {text: d.x_label}, type: sel.logx ? "log" : "linear"}, yaxis: {title: {text: d.y_label}},
    legend: {orientation: "h", y: 1.08}, uirevision: `${sel.x}|${sel.y}`};
  const el = $("#pareto-plot");
  await Plotly.react(el, traces, layout, {displaylogo: false, responsive: true});
  if (!el.dataset.bound) {
    el.dataset.bound = "1";
    el.on("plotly_click", (ev) => { const p = ev.points && ev.points[0]; if (p) location.hash = `#/exp/${exp}/trial/${p.customdata}`; });
  }
}

// -- best so far ---------------------------------------------------------------------------------
function bestTraces(series, name, xs) {
  return {type: "scatter", mode: "lines", line: {shape: "hv", width: 2}, name, x: series[xs].x, y: series[xs].best,
    customdata: series[xs].best_id, hovertemplate: "best: trial #%{customdata}<br>%{y}<extra>" + esc(name) + "</extra>"};
}

async function drawProgress(main, exp, fresh) {
  const d = await getJSON(`/api/exp/${exp}/best-so-far`);
  if (fresh || !$("#best-trial-plot")) {
    main.innerHTML = `<h1>Best so far</h1><div class="grid2"><div class="plot" id="best-trial-plot"></div><div class="plot" id="best-time-plot"></div></div>`;
  }
  const layout = (x) => ({margin: {t: 30, r: 20, b: 55, l: 70}, height: 420, xaxis: {title: {text: x}}, yaxis: {title: {text: `best ${d.label}`}}, showlegend: false, uirevision: "keep"});
  await Plotly.react("best-trial-plot", [bestTraces(d, d.metric, "by_trial")], layout("trial number"), {displaylogo: false, responsive: true});
  await Plotly.react("best-time-plot", [bestTraces(d, d.metric, "by_time")], layout("seconds since the first trial started"), {displaylogo: false, responsive: true});
}

// -- labels against the objective ----------------------------------------------------------------
async function drawLabels(main, exp, fresh) {
  const d = await getJSON(`/api/exp/${exp}/labels`);
  const labels = Object.keys(d.labels);
  if (fresh || !$("#label-plots") || $("#label-plots").children.length !== labels.length) {
    main.innerHTML = `<h1>Labels against ${esc(d.label)}</h1><p class="muted">each box holds the succeeded trials that took that value; dots are trials</p>
      <div class="grid2" id="label-plots">${labels.map((l, i) => `<div class="plot" id="label-plot-${i}"></div>`).join("")}</div>`;
  }
  for (const [i, label] of labels.entries()) {
    const traces = d.labels[label].map((g) => ({type: "box", name: g.value, y: g.y, customdata: g.ids, boxpoints: "all", jitter: 0.4,
      pointpos: 0, marker: {size: 4}, hovertemplate: "trial #%{customdata}: %{y}<extra>" + esc(g.value) + "</extra>"}));
    await Plotly.react(`label-plot-${i}`, traces, {title: {text: label, font: {size: 13}}, margin: {t: 40, r: 15, b: 60, l: 60}, height: 320,
      showlegend: false, xaxis: {type: "category"}, yaxis: {title: {text: d.label}}, uirevision: "keep"}, {displaylogo: false, responsive: true});
  }
}

// -- one-shot probabilities ----------------------------------------------------------------------
async function drawOneShot(main, exp, fresh) {
  const d = await getJSON(`/api/exp/${exp}/oneshot`);
  const labels = Object.keys(d.labels);
  if (!labels.length) { main.innerHTML = `<p class="notice">this experiment stored no per-epoch probabilities</p>`; return; }
  if (fresh || !$("#oneshot-plots") || $("#oneshot-plots").children.length !== labels.length) {
    main.innerHTML = `<h1>One-shot: probability of each candidate per epoch <span class="muted" style="font-size:13px">${esc(d.strategy || "")}, ${d.epochs.length} epochs</span></h1>
      <div class="grid2" id="oneshot-plots">${labels.map((l, i) => `<div class="plot" id="oneshot-plot-${i}"></div>`).join("")}</div>`;
  }
  for (const [i, label] of labels.entries()) {
    const traces = d.labels[label].map((c) => ({type: "scatter", mode: "lines+markers", name: c.candidate, x: c.epoch, y: c.p, marker: {size: 5}}));
    await Plotly.react(`oneshot-plot-${i}`, traces, {title: {text: label, font: {size: 13}}, margin: {t: 40, r: 15, b: 45, l: 55}, height: 320,
      xaxis: {title: {text: "epoch"}, dtick: 1}, yaxis: {title: {text: "probability"}, range: [0, 1]}, legend: {font: {size: 11}}, uirevision: "keep"}, {displaylogo: false, responsive: true});
  }
}

// -- several experiments side by side ------------------------------------------------------------
async function drawCompare(main, fresh) {
  const d = await getJSON(`/api/compare`);
  if (fresh || !$("#compare-best")) {
    main.innerHTML = `<h1>Experiments side by side</h1><div class="grid2"><div class="plot" id="compare-best"></div><div class="plot" id="compare-front"></div></div>`;
  }
  const metric = d[0] ? d[0].best_so_far.label : "";
  await Plotly.react("compare-best", d.map((e) => bestTraces(e.best_so_far, e.name, "by_trial")),
    {title: {text: "best so far", font: {size: 13}}, height: 440, margin: {t: 40, r: 20, b: 55, l: 70}, xaxis: {title: {text: "trial number"}}, yaxis: {title: {text: metric}}, uirevision: "keep"},
    {displaylogo: false, responsive: true});
  const fronts = d.filter((e) => e.pareto).map((e) => {
    const byId = new Map(e.pareto.points.map((p) => [p.id, p]));
    const pts = e.pareto.front.map((id) => byId.get(id));
    return {type: "scatter", mode: "lines+markers", line: {shape: "hv"}, name: e.name, x: pts.map((p) => p.x), y: pts.map((p) => p.y),
      customdata: pts.map((p) => p.id), hovertemplate: `${esc(e.name)} trial #%{customdata}<extra></extra>`};
  });
  const first = d.find((e) => e.pareto);
  await Plotly.react("compare-front", fronts, {title: {text: "Pareto fronts", font: {size: 13}}, height: 440, margin: {t: 40, r: 20, b: 55, l: 70},
    xaxis: {title: {text: first ? first.pareto.x_label : ""}}, yaxis: {title: {text: first ? first.pareto.y_label : ""}}, uirevision: "keep"}, {displaylogo: false, responsive: true});
}

// -- live updates --------------------------------------------------------------------------------
async function poll() {
  if (state.busy) return;
  state.busy = true;
  try {
    state.experiments = await getJSON("/api/experiments");
    $("#live").className = "";
    $("#live").textContent = "live";
    const r = state.route;
    if (!r) return;
    const changed = r.view === "compare"
      ? state.experiments.some((e) => state.tokens[e.index] !== e.token)
      : r.exp !== undefined && state.experiments[r.exp] && state.tokens[r.exp] !== state.experiments[r.exp].token;
    state.experiments.forEach((e) => { state.tokens[e.index] = e.token; });
    if (changed && r.view !== "trial") { drawNav(); await draw(false); }
  } catch (err) {
    $("#live").className = "stale";
    $("#live").textContent = "offline: " + err.message;
  } finally {
    state.busy = false;
  }
}

async function start() {
  state.experiments = await getJSON("/api/experiments");
  state.experiments.forEach((e) => { state.tokens[e.index] = e.token; });
  window.addEventListener("hashchange", route);
  await route();
  setInterval(poll, POLL_MS);
}

start().catch((err) => { $("#main").innerHTML = `<p class="notice">${esc(err.message)}</p>`; });
