// The symbol page `/markets/{symbol}`: chart, order book, trade tape, order entry, open orders, portfolio.

import { api, ApiError, cell, language, languageSwitch, loadWords, marginLine, money, renderAuth, t, units, whoAmI } from "./common.js";
import { priceChart } from "./chart.js";
import { follow } from "./feed.js";

const symbol = decodeURIComponent(location.pathname.split("/").pop()).toUpperCase();
const TAPE_LENGTH = 30;
const state = {
  me: null,
  asset: null,
  depth: null,
  trades: [], // newest first, at most TAPE_LENGTH
  ticker: null, // this symbol's entry
  prices: new Map(), // every symbol's last price (ticker), for the positions' live P&L
  last: null, // { seq, price_cents } of the newest trade seen
  interval: "1m",
  orders: [],
  portfolio: null,
  connection: "connecting",
};
const seen = { seqs: new Set(), ids: new Set() }; // the tape's trades, so REST and socket never double one
const $ = (id) => document.getElementById(id);

// ---- market data -------------------------------------------------------------------------------

/** The last traded price: the newest trade seen, else the ticker's, else the listing's. */
function lastPrice() {
  return state.last?.price_cents ?? state.ticker?.last_price_cents ?? state.asset?.last_price_cents;
}

function drawTicker() {
  $("last").textContent = money(lastPrice());
  if (!state.ticker) return;
  const change = state.ticker.change_24h_cents;
  const sign = change > 0 ? "+" : "";
  $("change").textContent = `${sign}${money(change)} (${sign}${state.ticker.change_24h_percent.toFixed(2)}%)`;
  $("change").className = change > 0 ? "up" : change < 0 ? "down" : "";
}

function ladderRow(level, widest, kind) {
  const row = document.createElement("tr");
  row.className = `level-${kind}`;
  row.dataset.price = level.price_cents;
  const quantity = cell(units(level.quantity), "text-end depth");
  quantity.style.backgroundSize = `${Math.max(2, (100 * level.quantity) / widest)}% 100%`;
  row.append(cell(money(level.price_cents), `text-end ${kind === "ask" ? "down" : "up"}`), quantity);
  return row;
}

function drawBook() {
  const depth = state.depth;
  if (!depth) return;
  const shown = 10;
  const asks = depth.asks.slice(0, shown);
  const bids = depth.bids.slice(0, shown);
  const widest = Math.max(1, ...asks.map((l) => l.quantity), ...bids.map((l) => l.quantity));
  $("asks").replaceChildren(...asks.slice().reverse().map((level) => ladderRow(level, widest, "ask")));
  $("bids").replaceChildren(...bids.map((level) => ladderRow(level, widest, "bid")));
  const spread = asks.length && bids.length ? asks[0].price_cents - bids[0].price_cents : null;
  $("spread").textContent = spread === null ? "" : t("spread", { spread: money(spread) });
}

/** Add trades (from REST or the socket, any order) to the tape, each once: by `id` when known, else `seq`. */
function addTrades(trades) {
  const fresh = trades.filter((trade) => !seen.seqs.has(trade.seq) && !(trade.id != null && seen.ids.has(trade.id)));
  if (!fresh.length) return;
  for (const trade of fresh) {
    seen.seqs.add(trade.seq);
    if (trade.id != null) seen.ids.add(trade.id);
    if (!state.last || trade.seq > state.last.seq) state.last = { seq: trade.seq, price_cents: trade.price_cents };
  }
  state.trades = [...state.trades, ...fresh].sort((a, b) => b.seq - a.seq).slice(0, TAPE_LENGTH);
  // Remember only the shown trades: an older one that comes again falls off the tape's end anyway.
  seen.seqs = new Set(state.trades.map((trade) => trade.seq));
  seen.ids = new Set(state.trades.filter((trade) => trade.id != null).map((trade) => trade.id));
  drawTape();
  drawTicker();
  drawPortfolio();
}

function drawTape() {
  const locale = language() === "ja" ? "ja-JP" : "en-US";
  $("tape").querySelector("tbody").replaceChildren(
    ...state.trades.map((trade) => {
      const row = document.createElement("tr");
      row.dataset.seq = trade.seq;
      row.append(
        cell(money(trade.price_cents), `text-end ${trade.taker_side === "buy" ? "up" : "down"}`),
        cell(units(trade.quantity), "text-end"),
        cell(new Date(trade.ts).toLocaleTimeString(locale), "text-end text-muted"),
      );
      return row;
    }),
  );
}

const CONNECTION_STYLE = {
  connecting: "text-bg-warning",
  reconnecting: "text-bg-warning",
  live: "text-bg-success",
  polling: "text-bg-secondary",
};

function drawConnection() {
  const badge = $("connection");
  badge.dataset.state = state.connection;
  if (state.connection === "none") {
    badge.className = "d-none";
    return;
  }
  badge.className = `badge ${CONNECTION_STYLE[state.connection] ?? "text-bg-secondary"}`;
  badge.textContent = t(`connection_${state.connection}`);
}

// ---- the signed-in trader ----------------------------------------------------------------------

function drawOrders() {
  const body = $("open-orders").querySelector("tbody");
  if (!state.me) {
    body.replaceChildren(emptyRow(5, t("sign_in_to_trade")));
    return;
  }
  if (!state.orders.length) {
    body.replaceChildren(emptyRow(5, t("no_open_orders")));
    return;
  }
  body.replaceChildren(
    ...state.orders.map((order) => {
      const row = document.createElement("tr");
      row.dataset.orderId = order.id;
      const cancel = document.createElement("button");
      cancel.className = "btn btn-sm btn-outline-secondary py-0 cancel-order";
      cancel.textContent = t("cancel");
      cancel.addEventListener("click", () => cancelOrder(order.id));
      const action = document.createElement("td");
      action.className = "text-end";
      action.append(cancel);
      row.append(
        cell(t(order.side), order.side === "buy" ? "up" : "down"),
        cell(order.price_cents === null ? t("market") : money(order.price_cents), "text-end"),
        cell(units(order.quantity), "text-end"),
        cell(units(order.filled_quantity), "text-end"),
        action,
      );
      return row;
    }),
  );
}

function emptyRow(span, text) {
  const row = document.createElement("tr");
  const td = cell(text, "text-muted");
  td.colSpan = span;
  row.append(td);
  return row;
}

function drawPortfolio() {
  const box = $("portfolio");
  if (!state.me || !state.portfolio) {
    box.textContent = state.me ? "" : t("sign_in_to_trade");
    return;
  }
  const p = state.portfolio;
  const positions = p.positions.map(livePosition);
  const moved = positions.reduce((sum, position, i) => sum + position.market_value_cents - p.positions[i].market_value_cents, 0);
  const figures = document.createElement("dl");
  figures.className = "row mb-2";
  for (const [key, value] of [["cash", p.cash_cents], ["reserved", p.reserved_cents], ["equity", p.equity_cents + moved]]) {
    const dt = document.createElement("dt");
    dt.className = "col-5 fw-normal text-muted";
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.className = "col-7 text-end mb-0";
    dd.id = `portfolio-${key}`;
    dd.textContent = money(value);
    figures.append(dt, dd);
  }
  const table = document.createElement("table");
  table.className = "table table-sm mb-0";
  table.id = "positions";
  const head = document.createElement("tr");
  for (const key of ["symbol", "quantity", "average_price", "unrealized_pnl"]) {
    const th = document.createElement("th");
    th.className = key === "symbol" ? "" : "text-end";
    th.textContent = t(key);
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const body = document.createElement("tbody");
  if (!positions.length) body.append(emptyRow(4, t("no_positions")));
  for (const position of positions) {
    const row = document.createElement("tr");
    const pnl = position.unrealized_pnl_cents;
    row.append(
      cell(position.symbol),
      cell(units(position.quantity), "text-end"),
      cell(money(position.average_price_cents), "text-end"),
      cell(money(pnl), `text-end ${pnl > 0 ? "up" : pnl < 0 ? "down" : ""}`),
    );
    body.append(row);
  }
  table.append(thead, body);
  box.replaceChildren(...[figures, marginLine(p.margin), table].filter(Boolean));
}

/** A position (GET /portfolio) revalued at the live last price: P&L moves by quantity x price change. */
function livePosition(position) {
  const last = position.symbol === symbol ? lastPrice() : state.prices.get(position.symbol);
  if (last == null || last === position.last_price_cents) return position;
  const move = position.quantity * (last - position.last_price_cents);
  return {
    ...position,
    last_price_cents: last,
    market_value_cents: position.market_value_cents + move,
    unrealized_pnl_cents: position.unrealized_pnl_cents + move,
  };
}

let accountReads = 0;

/** Read the open orders and the portfolio again (only the newest of overlapping reads is drawn). */
async function refreshAccount() {
  if (!state.me) return;
  const read = (accountReads += 1);
  try {
    const [orders, portfolio] = await Promise.all([
      api(`/api/v1/orders?open=true&symbol=${encodeURIComponent(symbol)}`),
      api("/api/v1/portfolio"),
    ]);
    if (read !== accountReads) return;
    state.orders = orders.items;
    state.portfolio = portfolio;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) state.me = null;
  }
  drawOrders();
  drawPortfolio();
}

let accountTimer = null;

/** Refresh the account soon, once for a burst of the socket's order and fill frames. */
function refreshAccountSoon() {
  clearTimeout(accountTimer);
  accountTimer = setTimeout(refreshAccount, 50);
}

/** A margin frame of the `user` channel (the account crossed a margin level): read the account. */
function marginChanged(frame) {
  if (state.portfolio) state.portfolio = { ...state.portfolio, margin: { ...state.portfolio.margin, ...frame } };
  drawPortfolio();
  refreshAccountSoon();
}

/** An order frame of the `user` channel: show its fill at once, then read the account. */
function orderChanged(frame) {
  if (frame.symbol === symbol) {
    const live = frame.status === "OPEN" || frame.status === "PARTIALLY_FILLED";
    state.orders = state.orders
      .filter((order) => live || order.id !== frame.id)
      .map((order) => (order.id === frame.id ? { ...order, filled_quantity: frame.filled_quantity } : order));
    drawOrders();
  }
  refreshAccountSoon();
}

async function cancelOrder(id) {
  showResult("", "");
  try {
    await api(`/api/v1/orders/${id}`, { method: "DELETE" });
    showResult("", t("order_canceled", { id }));
  } catch (err) {
    showResult(err.message, "");
  }
  await refreshAccount();
}

// ---- order entry -------------------------------------------------------------------------------

function tick() {
  return state.asset ? state.asset.tick_size_cents : 1;
}

function side() {
  return document.querySelector("input[name=side]:checked").value;
}

/** The price input in cents, or null when it is not a number. */
function priceCents() {
  const text = $("order-price").value.trim().replace(/,/g, "");
  if (!/^\d+(\.\d{0,2})?$/.test(text)) return null;
  return Math.round(Number(text) * 100);
}

/** The order the form describes, or a validation message. */
function readForm() {
  const type = $("order-type").value;
  const qtyText = $("order-qty").value.trim();
  if (!/^\d+$/.test(qtyText) || Number(qtyText) <= 0) return { error: t("bad_quantity") };
  const order = { symbol, side: side(), type, quantity: Number(qtyText) };
  if (type === "limit") {
    const cents = priceCents();
    if (cents === null || cents <= 0 || cents % tick() !== 0) return { error: t("bad_price", { tick: money(tick()) }) };
    order.price_cents = cents;
  }
  return { order };
}

function drawCost() {
  const { order } = readForm();
  let each = order?.price_cents;
  if (order && order.type === "market" && state.depth) {
    const best = order.side === "buy" ? state.depth.asks[0] : state.depth.bids[0];
    each = best ? best.price_cents : undefined;
  }
  $("order-cost").textContent = order && each ? t("cost", { cost: money(each * order.quantity) }) : "";
  $("price-group").classList.toggle("d-none", $("order-type").value === "market");
}

function stepPrice(direction) {
  const current = priceCents() ?? state.asset?.last_price_cents ?? tick();
  const snapped = Math.round(current / tick()) * tick();
  const next = Math.max(tick(), snapped + direction * tick());
  $("order-price").value = (next / 100).toFixed(2);
  drawCost();
}

function showResult(error, ok) {
  $("order-error").textContent = error;
  $("order-ok").textContent = ok;
}

async function submitOrder(event) {
  event.preventDefault();
  if (!state.me) {
    showResult(t("sign_in_to_trade"), "");
    return;
  }
  const { order, error } = readForm();
  if (error) {
    showResult(error, "");
    return;
  }
  showResult("", "");
  $("order-submit").disabled = true;
  try {
    const placed = await api("/api/v1/orders", { method: "POST", body: order });
    showResult("", t("order_placed", { id: placed.id }));
  } catch (err) {
    showResult(err.message, "");
  } finally {
    $("order-submit").disabled = false;
  }
  await refreshAccount();
}

// ---- start -------------------------------------------------------------------------------------

let live = null; // the socket feed, once the symbol is known

async function refreshAuth() {
  const before = state.me?.account_id ?? null;
  state.me = await whoAmI();
  renderAuth(state.me, refreshAuth);
  if (live && (state.me?.account_id ?? null) !== before) live.reconnect(); // the upgrade carries the cookie
  await refreshAccount();
  drawOrders();
  drawPortfolio();
}

let renewedAt = 0;

/** The server refused the `user` channel (the access cookie lapsed): renew the sign-in once a minute. */
async function renewSignIn() {
  if (!state.me || Date.now() - renewedAt < 60_000) return;
  renewedAt = Date.now();
  state.me = await whoAmI(); // a 401 renews the access cookie through the refresh token
  renderAuth(state.me, refreshAuth);
  if (state.me && live) live.reconnect();
}

/** What the socket may have missed (or, first, what came before it): trades, account, chart. */
async function resync(chart, first) {
  const page = await api(`/api/v1/trades/${encodeURIComponent(symbol)}?limit=${TAPE_LENGTH}`).catch(() => null);
  if (page) addTrades(page.trades);
  await refreshAccount();
  if (!first) await chart.load(symbol, state.interval).catch(() => null);
}

function redraw() {
  renderAuth(state.me, refreshAuth);
  drawConnection();
  drawTicker();
  drawBook();
  drawTape();
  drawOrders();
  drawPortfolio();
  drawCost();
}

await loadWords();
$("symbol").textContent = symbol;
document.title = `${symbol} · ${t("title")}`;
languageSwitch(() => {
  document.title = `${symbol} · ${t("title")}`;
  redraw();
});
const assets = await api("/api/v1/assets");
state.asset = assets.find((asset) => asset.symbol === symbol) ?? null;
if (!state.asset) {
  $("notice").textContent = t("unknown_symbol", { symbol });
  $("notice").classList.remove("d-none");
  state.connection = "none"; // no feed to show the state of
  drawConnection();
} else {
  $("order-price").value = (state.asset.last_price_cents / 100).toFixed(2);
  drawTicker();
  const chart = priceChart($("chart"));
  window.kyriosChart = chart; // for the browser tests: `kyriosChart.candles.data().length`
  await chart.load(symbol, state.interval);
  document.querySelectorAll("#intervals button").forEach((button) => {
    button.addEventListener("click", async () => {
      document.querySelectorAll("#intervals button").forEach((b) => b.classList.toggle("active", b === button));
      state.interval = button.dataset.interval;
      await chart.load(symbol, state.interval);
    });
  });
  state.me = await whoAmI();
  live = follow(
    symbol,
    {
      book(book) {
        state.depth = book;
        drawBook();
        drawCost();
      },
      trades: addTrades,
      candle: (bar) => chart.live(bar),
      ticker(entries) {
        for (const entry of entries) state.prices.set(entry.symbol, entry.last_price_cents);
        state.ticker = entries.find((entry) => entry.symbol === symbol) ?? state.ticker;
        drawTicker();
        drawPortfolio();
      },
      order: orderChanged,
      fill: refreshAccountSoon,
      margin: marginChanged,
      signedOut: renewSignIn,
      resync: (first) => resync(chart, first),
      state(connection) {
        state.connection = connection;
        drawConnection();
      },
    },
    () => state.me !== null,
  );
  window.kyriosFeed = live; // for the browser tests: `kyriosFeed.stats`, `kyriosFeed.book`
  setInterval(() => state.connection !== "live" && refreshAccount(), 2000); // no order frames then
  $("order-form").addEventListener("submit", submitOrder);
  $("order-form").addEventListener("input", drawCost);
  $("order-form").addEventListener("change", drawCost);
  $("price-up").addEventListener("click", () => stepPrice(1));
  $("price-down").addEventListener("click", () => stepPrice(-1));
}
await refreshAuth();
drawCost();
