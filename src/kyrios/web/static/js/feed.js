// The pages' live data, behind one seam: the `/ws` socket (trades, book, 1-minute candles, ticker,
// the signed-in user's orders), reconnected with backoff and jitter; REST polling only while the
// socket cannot connect. A handler that throws is reported on the console and the feed goes on.

import { api, language } from "./common.js";
import { LocalBook } from "./book.js";

const POLL_MS = 1000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** Connection attempts in a row that never opened before the page falls back to polling REST. */
const POLL_AFTER_FAILURES = 2;
/** No frame (the server's heartbeat is every 15 s) for this long: the connection is dead, reconnect. */
const SILENCE_MS = 45_000;

function report(err) {
  console.error("kyrios feed handler failed:", err);
}

/** Call `fn(...args)`; an exception (or rejection) is logged, not propagated: one bad handler stops nothing. */
function safely(fn, ...args) {
  if (!fn) return;
  try {
    const result = fn(...args);
    if (result && typeof result.catch === "function") result.catch(report);
  } catch (err) {
    report(err);
  }
}

/** The wait before reconnect attempt `attempt` (0, 1, ...): doubling, capped, with jitter. */
export function backoff(attempt) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * One `/ws` connection that comes back after a drop.
 * `channels()`: what to subscribe on each (re)connection; `onFrame(frame)`; `onOpen(first)` after
 * subscribing; `onState(state)`: "connecting", "live", "reconnecting" or "polling" (given up for
 * now: the caller polls REST while the socket goes on retrying).
 */
export class LiveSocket {
  constructor({ channels, onFrame, onOpen, onState }) {
    this.channels = channels;
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onState = onState;
    this.ws = null;
    this.failures = 0;
    this.opened = 0;
    this.stopped = false;
    this.timer = null;
    this.watchdog = null;
    this.state = null;
    this.connect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    safely(this.onState, state);
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?locale=${language()}`);
    this.ws = ws;
    let open = false;
    if (this.state !== "polling") this.setState(this.opened ? "reconnecting" : "connecting");
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      open = true;
      this.failures = 0;
      this.opened += 1;
      this.send({ op: "subscribe", channels: this.channels() });
      this.setState("live");
      this.alive();
      safely(this.onOpen, this.opened === 1);
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      this.alive();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      safely(this.onFrame, frame);
    });
    ws.addEventListener("close", () => {
      if (ws !== this.ws) return;
      clearTimeout(this.watchdog);
      this.ws = null;
      if (this.stopped) return;
      if (!open) this.failures += 1;
      this.setState(this.failures >= POLL_AFTER_FAILURES ? "polling" : "reconnecting");
      this.timer = setTimeout(() => this.connect(), backoff(this.failures));
    });
  }

  /** Note a sign of life; a connection silent past `SILENCE_MS` is closed (and so reconnected). */
  alive() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.watchdog = setTimeout(() => ws && ws.close(), SILENCE_MS);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Drop the connection and open a new one now (e.g. after signing in, for the access cookie). */
  reconnect() {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.watchdog);
    if (ws) ws.close(1000);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}

/** Poll `once()` every `POLL_MS` while `active()`; the returned function stops it. */
function poller(once, active) {
  let timer = null;
  let stopped = false;
  async function tick() {
    if (stopped) return;
    if (active()) {
      try {
        await once();
      } catch {
        // the socket's state indicator already says the page is not live; try again next time
      }
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  }
  timer = setTimeout(tick, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Follow one symbol until `stop()`. Handlers (each optional, each called safely):
 * `book({seq, bids, asks})` (levels best first, `{price_cents, quantity}`), `trades(list)` (new
 * trades, any order: the caller de-duplicates by `seq`), `candle(bar)` (the 1-minute bar, REST's
 * shape plus `closed`), `ticker(entries)` (every symbol), `order(frame)` and `fill(frame)` (the
 * signed-in user's), `state(state)` (see `LiveSocket`), `resync(first)` (the socket opened, the
 * `first` time or again, or polling began: reload from REST what may have been missed),
 * `signedOut()` (the server refused the `user` channel). `user()`: whether to follow `user`.
 * Returns `{stats, book, reconnect(), stop()}`; `stats` counts snapshots, gaps, checksum
 * mismatches, re-subscriptions and connections (the browser tests read them).
 */
export function follow(symbol, handlers, user = () => false) {
  const bookChannel = `book:${symbol}`;
  const book = new LocalBook();
  const ticker = new Map();
  const stats = { snapshots: 0, resyncs: 0, mismatches: 0, gaps: 0, opens: 0 };
  let waiting = true; // for a snapshot: deltas are dropped until it comes

  function showBook() {
    safely(handlers.book, { seq: book.seq, bids: book.bestBids(), asks: book.bestAsks() });
  }

  function resubscribeBook() {
    stats.resyncs += 1;
    waiting = true;
    socket.send({ op: "unsubscribe", channels: [bookChannel] });
    socket.send({ op: "subscribe", channels: [bookChannel] });
  }

  function onTicker(entries) {
    for (const entry of entries) ticker.set(entry.symbol, entry);
    safely(handlers.ticker, [...ticker.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)));
  }

  function onFrame(frame) {
    const { channel, type } = frame;
    if (channel === bookChannel) {
      if (type === "snapshot") {
        book.reset(frame);
        waiting = false;
        stats.snapshots += 1;
      } else if (type === "delta") {
        if (waiting) return;
        if (!book.apply(frame)) {
          stats.gaps += 1;
          resubscribeBook();
          return;
        }
      } else return;
      if (book.checksum() !== frame.checksum) {
        stats.mismatches += 1;
        resubscribeBook();
        return;
      }
      showBook();
    } else if (channel === `trades:${symbol}` && type === "trade") {
      safely(handlers.trades, [frame]);
    } else if (channel === `candles:${symbol}:1m` && type === "candle") {
      safely(handlers.candle, frame);
    } else if (channel === "ticker") {
      onTicker(frame.data);
    } else if (channel === "user") {
      const handler = { fill: handlers.fill, margin: handlers.margin }[type] ?? handlers.order;
      safely(handler, frame);
    } else if (channel === "system" && type === "error" && frame.subject === "user") {
      safely(handlers.signedOut);
    }
  }

  const path = encodeURIComponent(symbol);
  async function pollOnce() {
    const [depth, trades, candles, entries] = await Promise.all([
      api(`/api/v1/depth/${path}?levels=50`),
      api(`/api/v1/trades/${path}?limit=30`),
      api(`/api/v1/candles/${path}?interval=1m&limit=2`),
      api("/api/v1/ticker"),
    ]);
    if (socket.state !== "polling") return; // the socket came back meanwhile: it is the truth now
    waiting = true;
    book.reset({
      seq: depth.seq,
      bids: depth.bids.map((l) => [l.price_cents, l.quantity]),
      asks: depth.asks.map((l) => [l.price_cents, l.quantity]),
    });
    showBook();
    safely(handlers.trades, trades.trades);
    candles.candles.forEach((bar) => safely(handlers.candle, bar));
    onTicker(entries);
  }

  const socket = new LiveSocket({
    channels: () => [bookChannel, `trades:${symbol}`, `candles:${symbol}:1m`, "ticker", ...(user() ? ["user"] : [])],
    onFrame,
    onOpen(first) {
      stats.opens += 1;
      waiting = true;
      safely(handlers.resync, first);
    },
    onState(state) {
      if (state === "polling") safely(handlers.resync, false);
      safely(handlers.state, state);
    },
  });
  const stopPolling = poller(pollOnce, () => socket.state === "polling");
  return {
    stats,
    book,
    reconnect: () => socket.reconnect(),
    stop() {
      stopPolling();
      socket.stop();
    },
  };
}

/** Call `onTicker(every TickerEntry, by symbol)` on each change until `stop()`. */
export function followTicker(onTicker, onState) {
  const ticker = new Map();
  function publish(entries) {
    for (const entry of entries) ticker.set(entry.symbol, entry);
    safely(onTicker, [...ticker.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)));
  }
  const socket = new LiveSocket({
    channels: () => ["ticker"],
    onFrame(frame) {
      if (frame.channel === "ticker") publish(frame.data);
    },
    onState: (state) => safely(onState, state),
  });
  const stopPolling = poller(
    async () => {
      const entries = await api("/api/v1/ticker");
      if (socket.state === "polling") publish(entries);
    },
    () => socket.state === "polling",
  );
  return () => {
    stopPolling();
    socket.stop();
  };
}
