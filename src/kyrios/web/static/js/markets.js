// The market list at `/`: every symbol's last price and 24 h change, refreshed every second.

import { cell, languageSwitch, loadWords, money, renderAuth, units, whoAmI } from "./common.js";
import { followTicker } from "./feed.js";

let latest = [];

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
followTicker(
  (ticker) => {
    latest = ticker;
    draw();
  },
  () => {},
);
