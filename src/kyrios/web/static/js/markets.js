// The market list at `/`: every symbol's last price and 24 h change, refreshed every second.

import { api, cell, languageSwitch, loadWords, money, renderAuth, units, whoAmI } from "./common.js";
import { followTicker } from "./feed.js";

const SPARK_WIDTH = 96;
const SPARK_HEIGHT = 24;
const SPARK_REFRESH_MS = 60_000;
let latest = [];
const closes = new Map(); // symbol -> the last 24 h of 5-minute closes, oldest first

/** An SVG line of `values` (a flat line for one value); green when it ends above its start. */
function sparkline(values) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("width", SPARK_WIDTH);
  svg.setAttribute("height", SPARK_HEIGHT);
  if (!values || !values.length) return svg;
  const low = Math.min(...values);
  const span = Math.max(...values) - low || 1;
  const step = values.length > 1 ? SPARK_WIDTH / (values.length - 1) : 0;
  const points = (values.length > 1 ? values : [values[0], values[0]]).map((value, i) => {
    const x = values.length > 1 ? i * step : i * SPARK_WIDTH;
    const y = SPARK_HEIGHT - 2 - ((value - low) / span) * (SPARK_HEIGHT - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", values[values.length - 1] >= values[0] ? "#198754" : "#dc3545");
  line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  return svg;
}

async function loadSparklines() {
  const since = Math.floor(Date.now() / 1000) - 86_400;
  await Promise.all(
    latest.map(async (entry) => {
      const path = `/api/v1/candles/${encodeURIComponent(entry.symbol)}?interval=5m&limit=288`;
      const page = await api(path).catch(() => null);
      if (!page) return;
      const recent = page.candles.filter((bar) => bar.time >= since);
      closes.set(entry.symbol, (recent.length ? recent : page.candles.slice(-1)).map((bar) => bar.close_cents));
    }),
  );
  draw();
}

function draw() {
  const body = document.querySelector("#markets tbody");
  body.replaceChildren(
    ...latest.map((entry) => {
      const row = document.createElement("tr");
      const link = document.createElement("a");
      link.href = `/markets/${encodeURIComponent(entry.symbol)}`;
      link.textContent = entry.symbol;
      const name = document.createElement("td");
      name.append(link);
      const sign = entry.change_24h_cents > 0 ? "+" : "";
      const direction = entry.change_24h_cents > 0 ? "up" : entry.change_24h_cents < 0 ? "down" : "";
      row.append(
        name,
        cell(money(entry.last_price_cents), "text-end"),
        cell(`${sign}${money(entry.change_24h_cents)} (${sign}${entry.change_24h_percent.toFixed(2)}%)`, `text-end ${direction}`),
        cell(units(entry.volume_24h), "text-end d-none d-sm-table-cell"),
      );
      const spark = document.createElement("td");
      spark.className = "text-end";
      spark.append(sparkline(closes.get(entry.symbol)));
      row.append(spark);
      return row;
    }),
  );
  document.getElementById("empty").classList.toggle("d-none", latest.length > 0);
}

async function refreshAuth() {
  renderAuth(await whoAmI(), refreshAuth);
}

await loadWords();
languageSwitch(() => {
  draw();
  refreshAuth();
});
await refreshAuth();
let sparked = false;
followTicker(
  (ticker) => {
    latest = ticker;
    draw();
    if (!sparked) {
      sparked = true;
      loadSparklines();
      setInterval(loadSparklines, SPARK_REFRESH_MS);
    }
  },
  () => {},
);
