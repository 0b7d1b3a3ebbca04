// The page's copy of one symbol's order book, kept from the `book:SYM` snapshot and deltas.
// Its checksum is the server's (`web/ws/book.py`, Kraken's way): the 10 best asks (lowest first)
// then the 10 best bids (highest first), each level as price then quantity in decimal digits,
// concatenated, CRC32 as an unsigned 32-bit integer.

const CHECKSUM_LEVELS = 10;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC32 (zlib's) of an ASCII string, unsigned. */
export function crc32(text) {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i += 1) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Every level of one book as of `seq`; `apply` a frame, then compare `checksum()` with the frame's. */
export class LocalBook {
  constructor() {
    this.seq = null;
    this.bids = new Map();
    this.asks = new Map();
  }

  /** Start over from a `snapshot` frame. */
  reset(frame) {
    this.seq = frame.seq;
    this.bids = new Map(frame.bids.map(([price, quantity]) => [price, quantity]));
    this.asks = new Map(frame.asks.map(([price, quantity]) => [price, quantity]));
  }

  /** Apply a `delta` frame; false (nothing changed) when it does not follow on from `seq`. */
  apply(frame) {
    if (this.seq === null || frame.prev_seq !== this.seq) return false;
    for (const [levels, changes] of [[this.bids, frame.bids], [this.asks, frame.asks]]) {
      for (const [price, quantity] of changes) {
        if (quantity) levels.set(price, quantity);
        else levels.delete(price);
      }
    }
    this.seq = frame.seq;
    return true;
  }

  /** Bid levels, best (highest) first, as `{price_cents, quantity}` like GET /depth. */
  bestBids(count = Infinity) {
    return best(this.bids, (a, b) => b - a, count);
  }

  /** Ask levels, best (lowest) first. */
  bestAsks(count = Infinity) {
    return best(this.asks, (a, b) => a - b, count);
  }

  checksum() {
    const text = [...this.bestAsks(CHECKSUM_LEVELS), ...this.bestBids(CHECKSUM_LEVELS)]
      .map((level) => `${level.price_cents}${level.quantity}`)
      .join("");
    return crc32(text);
  }
}

function best(levels, order, count) {
  return [...levels.keys()]
    .sort(order)
    .slice(0, count)
    .map((price) => ({ price_cents: price, quantity: levels.get(price) }));
}
