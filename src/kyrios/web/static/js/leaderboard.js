// The leaderboard page at `/leaderboard`: players by net worth (all time) or by trading P&L over the
// last day or week, from the public `/api/v1/leaderboard`, refreshed every few seconds.

import { api, cell, languageSwitch, loadWords, money, renderAuth, t, whoAmI } from "./common.js";

const REFRESH_MS = 10_000;
let period = new URLSearchParams(location.search).get("period") || "all";
let board = null;
let myName = null;

function signed(cents) {
  return `${cents > 0 ? "+" : ""}${money(cents)}`;
}

function draw() {
  document.querySelectorAll("#periods [data-period]").forEach((button) => {
    button.classList.toggle("active", button.dataset.period === period);
  });
  document.getElementById("ranking-note").textContent = t(period === "all" ? "ranked_by_net_worth" : "ranked_by_pnl");
  if (!board) return;
  document.querySelector("#leaderboard tbody").replaceChildren(
    ...board.rows.map((row) => {
      const tr = document.createElement("tr");
      if (row.name === myName) tr.className = "me";
      const direction = row.change_cents > 0 ? "up" : row.change_cents < 0 ? "down" : "";
      const percent = row.change_percent === null ? "—" : `${row.change_percent > 0 ? "+" : ""}${row.change_percent.toFixed(2)}%`;
      tr.append(
        cell(String(row.rank), "text-end"),
        cell(row.name),
        cell(money(row.net_worth_cents), "text-end"),
        cell(signed(row.change_cents), `text-end ${direction}`),
        cell(percent, `text-end ${direction}`),
      );
      return tr;
    }),
  );
  document.getElementById("empty").classList.toggle("d-none", board.rows.length > 0);
}

async function refresh() {
  const asked = period;
  try {
    const fetched = await api(`/api/v1/leaderboard?period=${asked}&limit=50`);
    if (asked !== period) return; // the tab changed meanwhile
    board = fetched;
    document.getElementById("notice").classList.add("d-none");
  } catch (err) {
    const notice = document.getElementById("notice");
    notice.textContent = err.message;
    notice.classList.remove("d-none");
  }
  draw();
}

async function refreshAuth() {
  const me = await whoAmI();
  myName = me ? me.name : null;
  renderAuth(me, refreshAuth);
  draw();
}

await loadWords();
languageSwitch(() => {
  draw();
  refreshAuth();
});
document.querySelectorAll("#periods [data-period]").forEach((button) => {
  button.addEventListener("click", () => {
    period = button.dataset.period;
    history.replaceState(null, "", `/leaderboard?period=${period}`);
    board = null;
    draw();
    refresh();
  });
});
await refreshAuth();
await refresh();
setInterval(refresh, REFRESH_MS);
