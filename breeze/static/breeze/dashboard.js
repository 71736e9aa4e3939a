// The dashboards: read the filters, fetch the numbers from the JSON endpoint, draw inline SVG.
(function () {
  "use strict";
  const root = document.getElementById("dashboard");
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#a855f7", "#64748b", "#14b8a6"];
  const STATUS_COLORS = { succeeded: "#10b981", pending: "#94a3b8", delivering: "#0ea5e9", failed: "#f59e0b", dead: "#ef4444" };

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    (children || []).forEach((child) => node.append(child));
    return node;
  }

  function text(x, y, content, attrs) {
    const node = svg("text", Object.assign({ x: x, y: y }, attrs || {}));
    node.textContent = content;
    return node;
  }

  function rect(x, y, width, height, color, title, testid) {
    const attrs = { x: x, y: y, width: Math.max(width, 0), height: Math.max(height, 0), fill: color, rx: 2 };
    if (testid) attrs["data-testid"] = testid;
    const node = svg("rect", attrs);
    const tip = svg("title");
    tip.textContent = title;
    node.append(tip);
    return node;
  }

  function html(tag, className, content, testid) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    if (testid) node.dataset.testid = testid;
    return node;
  }

  function legend(entries) {
    const box = html("div", "dash-legend");
    entries.forEach(([label, color]) => {
      const item = html("span", "", label);
      item.style.setProperty("--swatch", color);
      box.append(item);
    });
    return box;
  }

  function percent(rate) {
    return rate === null ? "—" : (rate * 100).toFixed(1) + "%";
  }

  function empty(target, message) {
    target.replaceChildren(html("p", "dash-empty", message, "chart-empty"));
  }

  function drawCallsPerHour(target, hours) {
    const total = hours.reduce((sum, hour) => sum + hour.calls, 0);
    if (!total) return empty(target, "No calls in this range.");
    const width = 900, height = 220, left = 34, bottom = 24, top = 10;
    const peak = Math.max(...hours.map((hour) => hour.calls));
    const step = (width - left) / hours.length;
    const scale = (value) => ((height - bottom - top) * value) / peak;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Calls per hour" });
    chart.append(text(0, top + 8, String(peak)), text(0, height - bottom, "0"));
    hours.forEach((hour, index) => {
      const x = left + index * step;
      const label = hour.hour.slice(0, 13).replace("T", " ") + ":00 UTC";
      chart.append(rect(x, height - bottom - scale(hour.calls), Math.max(step - 1, 1), scale(hour.calls), COLORS[0], `${label}: ${hour.calls} calls`, "bar-calls"));
      if (hour.answered) {
        // Inset, so the calls bar behind it stays visible when every call was answered.
        const inset = Math.max(step - 1, 1) / 4;
        chart.append(rect(x + inset, height - bottom - scale(hour.answered), inset * 2, scale(hour.answered), COLORS[2], `${label}: ${hour.answered} answered`, "bar-answered"));
      }
      if (hour.hour.slice(11, 13) === "00" && (hours.length <= 24 * 14 || index % (24 * 7) === 0)) {
        chart.append(text(x, height - 6, hour.hour.slice(5, 10)));
      }
    });
    target.replaceChildren(chart, legend([[`calls (${total})`, COLORS[0]], ["answered", COLORS[2]]]));
  }

  function drawRate(target, rate, detail, parts) {
    const big = html("div", "dash-big", percent(rate), target.id + "-value");
    const bar = svg("svg", { viewBox: "0 0 400 24", role: "img", "aria-label": detail });
    const whole = parts.reduce((sum, [, value]) => sum + value, 0);
    let x = 0;
    parts.forEach(([label, value, color]) => {
      const width = whole ? (400 * value) / whole : 0;
      bar.append(rect(x, 0, width, 24, color, `${label}: ${value}`));
      x += width;
    });
    if (!whole) bar.append(rect(0, 0, 400, 24, "#e2e8f0", "nothing yet"));
    target.replaceChildren(big, html("p", "", detail), bar, legend(parts.map(([label, value, color]) => [`${label} (${value})`, color])));
  }

  function groupBy(rows, key) {
    const groups = new Map();
    rows.forEach((row) => {
      const name = key(row);
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(row);
    });
    return groups;
  }

  function templateLabel(row, manyMerchants) {
    return manyMerchants ? `${row.merchant} · ${row.template}` : row.template;
  }

  function drawOutcomes(target, rows) {
    if (!rows.length) return empty(target, "No ended calls in this range.");
    const many = new Set(rows.map((row) => row.merchant)).size > 1;
    const outcomes = [...new Set(rows.map((row) => row.outcome))];
    const color = (outcome) => COLORS[outcomes.indexOf(outcome) % COLORS.length];
    const groups = groupBy(rows, (row) => row.template_id);
    const width = 900, rowHeight = 26, labelWidth = 240;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${groups.size * rowHeight + 4}`, role: "img", "aria-label": "Outcomes per template" });
    let y = 2;
    groups.forEach((group) => {
      const total = group.reduce((sum, row) => sum + row.calls, 0);
      chart.append(text(0, y + 16, `${templateLabel(group[0], many)} (${total})`));
      let x = labelWidth;
      group.forEach((row) => {
        const share = ((width - labelWidth) * row.calls) / total;
        chart.append(rect(x, y, share, rowHeight - 6, color(row.outcome), `${row.outcome}: ${row.calls} of ${total}`, "bar-outcome"));
        x += share;
      });
      y += rowHeight;
    });
    target.replaceChildren(chart, legend(outcomes.map((outcome) => [outcome, color(outcome)])));
  }

  function drawLatency(target, rows) {
    if (!rows.length) return empty(target, "No answered turns in this range.");
    const many = new Set(rows.map((row) => row.merchant)).size > 1;
    const width = 900, rowHeight = 40, labelWidth = 260;
    const peak = Math.max(...rows.map((row) => row.p95_ms));
    const scale = (value) => ((width - labelWidth - 70) * value) / peak;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: "img", "aria-label": "Latency p50 and p95" });
    rows.forEach((row, index) => {
      const y = 2 + index * rowHeight;
      chart.append(text(0, y + 14, templateLabel(row, many)), text(0, y + 30, `${row.provider} · ${row.answers} answers`));
      chart.append(rect(labelWidth, y, scale(row.p50_ms), 15, COLORS[0], `p50 ${row.p50_ms} ms`, "bar-p50"));
      chart.append(text(labelWidth + scale(row.p50_ms) + 4, y + 12, `${Math.round(row.p50_ms)} ms`));
      chart.append(rect(labelWidth, y + 18, scale(row.p95_ms), 15, COLORS[3], `p95 ${row.p95_ms} ms`, "bar-p95"));
      chart.append(text(labelWidth + scale(row.p95_ms) + 4, y + 30, `${Math.round(row.p95_ms)} ms`));
    });
    target.replaceChildren(chart, legend([["p50", COLORS[0]], ["p95", COLORS[3]]]));
  }

  function drawFunnels(target, funnels) {
    if (!funnels.length) return empty(target, "No campaign ran in this range.");
    const stages = [["leads", "leads"], ["dialled", "dialled"], ["answered", "answered"], ["completed", "completed"], ["with_outcome", "with an outcome"]];
    const many = new Set(funnels.map((funnel) => funnel.merchant)).size > 1;
    const width = 900, stageHeight = 18, labelWidth = 240;
    const height = funnels.length * (stages.length * stageHeight + 16);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Campaign funnels" });
    let y = 0;
    funnels.forEach((funnel) => {
      const name = many ? `${funnel.merchant} · ${funnel.campaign}` : funnel.campaign;
      chart.append(text(0, y + 13, `${name} (${funnel.status})`));
      stages.forEach(([key, label], index) => {
        const value = funnel[key];
        const share = funnel.leads ? ((width - labelWidth - 120) * value) / funnel.leads : 0;
        chart.append(rect(labelWidth, y, share, stageHeight - 3, COLORS[index], `${label}: ${value}`, "bar-funnel"));
        chart.append(text(labelWidth + share + 4, y + 12, `${label}: ${value}`));
        y += stageHeight;
      });
      y += 16;
    });
    target.replaceChildren(chart);
  }

  function render(data) {
    drawCallsPerHour($("chart-calls-per-hour"), data.calls_per_hour);
    const answers = data.answer_rate;
    drawRate($("chart-answer-rate"), answers.rate, `${answers.answered} of ${answers.dialled} dialled calls answered`, [
      ["answered", answers.answered, COLORS[2]],
      ["not answered", answers.dialled - answers.answered, "#cbd5e1"],
    ]);
    const hooks = data.webhooks;
    drawRate($("chart-webhooks"), hooks.rate, `${hooks.succeeded} of ${hooks.finished} finished deliveries succeeded`,
      Object.entries(hooks.by_status).map(([status, count]) => [status, count, STATUS_COLORS[status] || "#64748b"]));
    drawOutcomes($("chart-outcomes"), data.outcomes);
    drawLatency($("chart-latency"), data.latency);
    drawFunnels($("chart-funnels"), data.campaign_funnels);
  }

  function setStatus(message, isError) {
    $("dash-status").textContent = message;
    $("dash-status").classList.toggle("error", isError);
  }

  async function load() {
    const params = new URLSearchParams();
    [["merchant", "dash-merchant"], ["from", "dash-from"], ["to", "dash-to"]].forEach(([name, id]) => {
      if ($(id).value) params.set(name, $(id).value);
    });
    history.replaceState(null, "", "?" + params.toString());
    setStatus("Loading…", false);
    root.dataset.state = "loading";
    const response = await fetch(root.dataset.url + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = (body.error && body.error.fields) || [];
      const detail = fields.map((field) => `${field.field}: ${field.message}`).join(" ");
      setStatus(detail || (body.error && body.error.message) || `Failed (${response.status}).`, true);
      root.dataset.state = "error";
      return;
    }
    render(body);
    setStatus(`${body.from} to ${body.to}`, false);
    root.dataset.state = "ready";
  }

  const query = new URLSearchParams(location.search);
  [["merchant", "dash-merchant"], ["from", "dash-from"], ["to", "dash-to"]].forEach(([name, id]) => {
    if (query.has(name)) $(id).value = query.get(name);
  });
  $("dash-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
})();
