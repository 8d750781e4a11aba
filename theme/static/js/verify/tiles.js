// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): paths, entry bundles, and reading a whole tree from a
// static host with every tile checked.
//
//   tile/<L>/<N>[.p/<W>]        hash tile: W (1..255 partial, else 256) 32-byte hashes; at level L the
//                               i-th hash is MTH of leaves [(N·256+i)·256^L, (N·256+i+1)·256^L)
//   tile/entries/<N>[.p/<W>]    entry bundle: W entries, each a big-endian uint16 length then the bytes
//   <N> is written in zero-padded 3-digit groups, all but the last prefixed with "x": 1234067 -> x001/x234/067
import { leafHashes as leafHashesOf, rootFromLeafHashes, rootFromNodes, HASH_SIZE } from './merkle.js';
import { toHex, bytesEqual } from './bytes.js';
import { FormatError, IntegrityError } from './errors.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export function encodeIndex(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`tile index: expected a non-negative integer, got ${n}`);
  const groups = [];
  do { groups.unshift(String(n % 1000).padStart(3, '0')); n = Math.floor(n / 1000); } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? 'x' + g : g)).join('/');
}

function widthSuffix(w) {
  if (w === undefined || w === TILE_WIDTH) return '';
  if (!Number.isInteger(w) || w < 1 || w > 255) throw new FormatError(`tile width: expected 1..256, got ${w}`);
  return `.p/${w}`;
}

export function tilePath(level, n, width) {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new FormatError(`tile level: expected 0..63, got ${level}`);
  return `tile/${level}/${encodeIndex(n)}${widthSuffix(width)}`;
}

export function entriesPath(n, width) {
  return `tile/entries/${encodeIndex(n)}${widthSuffix(width)}`;
}

/** Split an entry bundle into its entries; FormatError when the lengths do not add up. */
export function decodeEntryBundle(bytes, where = 'entry bundle') {
  const out = [];
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) throw new FormatError(`${where}: truncated length prefix at byte ${i}`);
    const len = (bytes[i] << 8) | bytes[i + 1];
    if (i + 2 + len > bytes.length) throw new FormatError(`${where}: entry ${out.length} claims ${len} bytes, only ${bytes.length - i - 2} left`);
    out.push(bytes.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

export function encodeEntryBundle(entries) {
  let n = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new FormatError(`entry of ${e.length} bytes does not fit a uint16 length`);
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) { out[o] = e.length >> 8; out[o + 1] = e.length & 255; out.set(e, o + 2); o += 2 + e.length; }
  return out;
}

/**
 * Read every entry of a tree of `size` leaves from a tlog-tiles host and check it against `root`:
 * the entry bundles give the leaves; every hash tile the tree needs is fetched and must equal the hashes
 * computed from the leaves; the root computed from the leaves must equal `root`.
 *
 * `fetchBytes(path)` resolves to a Uint8Array, or rejects (a missing file is reported by the caller's
 * error). Returns {entries: Uint8Array[], leafHashes: Uint8Array[], tilesChecked}.
 * IntegrityError names the first file whose contents do not hold.
 */
export async function readTree(fetchBytes, size, root, { onProgress } = {}) {
  if (!Number.isSafeInteger(size) || size < 0) throw new FormatError(`tree size: expected a non-negative integer, got ${size}`);
  const entries = [];
  const bundles = Math.ceil(size / TILE_WIDTH);
  // Fetch bundles with a little parallelism (static hosts are fast; a browser caps connections anyway).
  const paths = [];
  for (let k = 0; k < bundles; k++) {
    const w = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
    paths.push([k, w, entriesPath(k, w)]);
  }
  const datas = await mapLimit(paths, 6, ([, , p]) => fetchBytes(p));
  paths.forEach(([k, w, p], j) => {
    const got = decodeEntryBundle(datas[j], p);
    if (got.length !== w) throw new IntegrityError(`${p}: expected ${w} entries, got ${got.length}`);
    entries.push(...got);
    if (onProgress) onProgress({ stage: 'entries', done: k + 1, total: bundles });
  });
  const leafHashes = await leafHashesOf(entries);
  // Check every hash tile, level by level: level 0 holds leaf hashes, level L the MTH of each full tile
  // below. `level` holds the hashes of complete 256^L subtrees computed from the leaves.
  let level = leafHashes;
  const levels = []; // levels[L]: the hashes of tile level L computed from the leaves
  let tilesChecked = 0;
  for (let L = 0; ; L++) {
    const count = Math.floor(size / TILE_WIDTH ** L); // hashes that exist at this tile level
    if (count === 0) break;
    levels.push(level);
    const tiles = Math.ceil(count / TILE_WIDTH);
    const specs = [];
    for (let n = 0; n < tiles; n++) specs.push([n, Math.min(TILE_WIDTH, count - n * TILE_WIDTH)]);
    const datas2 = await mapLimit(specs, 6, ([n, w]) => fetchBytes(tilePath(L, n, w)));
    specs.forEach(([n, w], j) => {
      const p = tilePath(L, n, w);
      const d = datas2[j];
      if (d.length !== w * HASH_SIZE) throw new IntegrityError(`${p}: expected ${w * HASH_SIZE} bytes (${w} hashes), got ${d.length}`);
      for (let i = 0; i < w; i++) {
        const want = level[n * TILE_WIDTH + i];
        if (!bytesEqual(d.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE), want)) {
          throw new IntegrityError(`${p}: hash ${i} does not match the ${L === 0 ? 'entry' : 'tiles'} below: expected ${toHex(want)}`);
        }
      }
      tilesChecked++;
    });
    // Next level: the MTH of every full tile at this level.
    const full = Math.floor(count / TILE_WIDTH);
    if (full === 0) break;
    const up = [];
    for (let n = 0; n < full; n++) up.push(await rootFromLeafHashes(level.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH)));
    level = up;
  }
  // The root from the computed levels: O(log n) nodes, each at most 128 hashes of its tile level.
  const computed = await rootFromNodes(size, (lv, index) => {
    const L = Math.floor(lv / 8);
    const span = 2 ** (lv % 8);
    return span === 1 ? levels[L][index] : rootFromLeafHashes(levels[L].slice(index * span, (index + 1) * span));
  });
  if (!bytesEqual(computed, root)) {
    throw new IntegrityError(`the entries do not hash to the checkpoint's root: expected ${toHex(root)}, got ${toHex(computed)}`);
  }
  return { entries, leafHashes, tilesChecked };
}

/** A node reader over published hash tiles (for inclusion proofs from tiles): node(level, index). */
export function tileNodeReader(fetchBytes, size) {
  const cache = new Map();
  const tile = (L, n) => {
    const count = Math.floor(size / TILE_WIDTH ** L);
    const w = Math.min(TILE_WIDTH, count - n * TILE_WIDTH);
    const p = tilePath(L, n, w);
    if (!cache.has(p)) cache.set(p, fetchBytes(p));
    return cache.get(p);
  };
  return async (level, index) => {
    const L = Math.floor(level / TILE_HEIGHT);
    const r = level % TILE_HEIGHT;
    const span = 2 ** r; // hashes of the tile level below this node
    const first = index * span;
    const n = Math.floor(first / TILE_WIDTH);
    const d = await tile(L, n);
    const start = first - n * TILE_WIDTH;
    const hashes = [];
    for (let i = start; i < start + span; i++) {
      if ((i + 1) * HASH_SIZE > d.length) throw new IntegrityError(`${tilePath(L, n)}: too short for node (${level}, ${index})`);
      hashes.push(d.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    }
    return span === 1 ? hashes[0] : rootFromLeafHashes(hashes);
  };
}

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

