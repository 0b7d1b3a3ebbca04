// The portfolio page at `/portfolio`: the signed-in player's cash, positions with P&L and a net-worth
// chart with a period switch, refreshed every few seconds over REST.

import { ApiError, api, cell, languageSwitch, loadWords, marginLine, money, renderAuth, t, units, whoAmI } from "./common.js";
import { netWorthChart } from "./net_worth_chart.js";

const REFRESH_MS = 5_000;
let period = "day";
let portfolio = null;
let history = null;
let chart = null;

function signed(cents) {
  return `${cents > 0 ? "+" : ""}${money(cents)}`;
}

function direction(cents) {
  return cents > 0 ? "up" : cents < 0 ? "down" : "";
}

function showNotice(message) {
  const notice = document.getElementById("notice");
  notice.textContent = message || "";
  notice.classList.toggle("d-none", !message);
}

function drawSummary() {
  if (!portfolio || !history) return;
  document.getElementById("net-worth").textContent = money(history.net_worth_cents);
  document.getElementById("cash").textContent = money(portfolio.cash_cents + portfolio.reserved_cents);
  document.getElementById("net-deposits").textContent = money(history.net_deposits_cents);
  document.getElementById("change-label").textContent = t(`change_${history.period}`);
  const change = document.getElementById("change");
  const percent = history.change_percent === null ? "" : ` (${history.change_percent > 0 ? "+" : ""}${history.change_percent.toFixed(2)}%)`;
  change.textContent = `${signed(history.change_cents)}${percent}`;
  change.className = `fs-5 ${direction(history.change_cents)}`;
  document.getElementById("margin-box").replaceChildren(...[marginLine(portfolio.margin)].filter(Boolean));
}

function drawPositions() {
  if (!portfolio) return;
  const rows = portfolio.positions.filter((p) => p.quantity !== 0 || p.realized_pnl_cents !== 0);
  document.querySelector("#positions tbody").replaceChildren(
    ...rows.map((p) => {
      const row = document.createElement("tr");
      const link = document.createElement("a");
      link.href = `/markets/${encodeURIComponent(p.symbol)}`;
      link.textContent = p.symbol;
      const name = document.createElement("td");
      name.append(link);
      row.append(
        name,
        cell(units(p.quantity), "text-end"),
        cell(money(p.average_price_cents), "text-end"),
        cell(money(p.last_price_cents), "text-end d-none d-sm-table-cell"),
        cell(money(p.market_value_cents), "text-end"),
        cell(signed(p.unrealized_pnl_cents), `text-end ${direction(p.unrealized_pnl_cents)}`),
        cell(signed(p.realized_pnl_cents), `text-end d-none d-sm-table-cell ${direction(p.realized_pnl_cents)}`),
      );
      return row;
    }),
  );
  document.getElementById("no-positions").classList.toggle("d-none", rows.length > 0);
}

async function refresh() {
  try {
    [portfolio, history] = await Promise.all([
      api("/api/v1/portfolio"),
      api(`/api/v1/me/net-worth?period=${period}`),
    ]);
    showNotice("");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return start();
    showNotice(err.message);
    return;
  }
  drawSummary();
  drawPositions();
  chart.draw(history);
}

function choosePeriod(chosen) {
  period = chosen;
  document.querySelectorAll("#periods [data-period]").forEach((button) => {
    button.classList.toggle("active", button.dataset.period === chosen);
  });
  refresh();
}

let timer = null;

async function start() {
  const me = await whoAmI();
  renderAuth(me, start);
  document.getElementById("signed-out").classList.toggle("d-none", Boolean(me));
  document.getElementById("mine").classList.toggle("d-none", !me);
  clearInterval(timer);
  if (!me) return;
  if (!chart) {
    chart = netWorthChart(document.getElementById("net-worth-chart"));
    window.kyriosNetWorth = chart; // for the browser tests
  }
  await refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

await loadWords();
languageSwitch(() => {
  drawSummary();
  drawPositions();
  start();
});
document.querySelectorAll("#periods [data-period]").forEach((button) => {
  button.addEventListener("click", () => choosePeriod(button.dataset.period));
});
await start();
