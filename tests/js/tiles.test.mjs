// C2SP tlog-tiles: path encoding (examples read from tests/vectors/interop/c2sp/tlog-tiles.md and Go's
// tlog_tile_test.go), entry bundles, and readTree over an in-memory static host, including the spec's
// size-70,000 example of which tiles exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  encodeIndex, tilePath, entriesPath, decodeEntryBundle, encodeEntryBundle, readTree, tileNodeReader, TILE_WIDTH,
} from '../../theme/static/js/verify/tiles.js';
import { leafHash, leafHashes, rootFromLeafHashes, inclusionProofFromNodes, verifyInclusion } from '../../theme/static/js/verify/merkle.js';
import { concatBytes, toHex } from '../../theme/static/js/verify/bytes.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';

const INTEROP = new URL('../vectors/interop/', import.meta.url);
const SPEC = readFileSync(new URL('c2sp/tlog-tiles.md', INTEROP), 'utf8');
const GO_TILE = readFileSync(new URL('go-sumdb/tlog_tile_test.go', INTEROP), 'utf8');

test('index encoding: the spec example and Go tile paths (Go adds a height element tlog-tiles drops)', () => {
  const m = /index (\d+) will be encoded as\s+`([^`]+)`/.exec(SPEC);
  assert.equal(encodeIndex(Number(m[1])), m[2]); // 1234067 -> x001/x234/067
  for (const [, h, l, n, w] of GO_TILE.matchAll(/f\.Add\("tile\/(\d+)\/(\d+)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?"\)/g)) {
    const index = Number(n.replace(/x|\//g, ''));
    assert.equal(tilePath(Number(l), index, w ? Number(w) : undefined), `tile/${l}/${n}${w ? '.p/' + w : ''}`, `Go path with height ${h}`);
  }
  assert.equal(encodeIndex(0), '000');
  assert.equal(encodeIndex(1000), 'x001/000');
  assert.equal(entriesPath(5, 17), 'tile/entries/005.p/17');
  assert.equal(entriesPath(5, 256), 'tile/entries/005');
  assert.throws(() => tilePath(64, 0), /tile level: expected 0..63, got 64/);
  assert.throws(() => entriesPath(0, 0), /tile width: expected 1..256, got 0/);
});

test('entry bundles: round trip; truncated bundles are format errors', () => {
  const entries = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(7)];
  const b = encodeEntryBundle(entries);
  assert.deepEqual(decodeEntryBundle(b).map(toHex), entries.map(toHex));
  assert.throws(() => decodeEntryBundle(b.subarray(0, b.length - 1)), /entry 2 claims 300 bytes, only 299 left/);
  assert.throws(() => decodeEntryBundle(Uint8Array.of(0)), /truncated length prefix at byte 0/);
});

// A tlog-tiles host in memory, built independently of readTree: per level, the hashes of complete
// 256^L subtrees, written as full and partial tiles.
async function buildHost(entries) {
  const files = new Map();
  const size = entries.length;
  for (let k = 0; k * TILE_WIDTH < size; k++) {
    const chunk = entries.slice(k * TILE_WIDTH, (k + 1) * TILE_WIDTH);
    files.set(entriesPath(k, chunk.length), encodeEntryBundle(chunk));
  }
  let level = await leafHashes(entries);
  const leaves = level;
  for (let L = 0; level.length > 0; L++) {
    for (let n = 0; n * TILE_WIDTH < level.length; n++) {
      const chunk = level.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH);
      files.set(tilePath(L, n, chunk.length), concatBytes(...chunk));
    }
    const up = [];
    for (let n = 0; (n + 1) * TILE_WIDTH <= level.length; n++) up.push(await rootFromLeafHashes(level.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH)));
    level = up;
  }
  const fetched = [];
  const fetchBytes = async (p) => {
    fetched.push(p);
    if (!files.has(p)) throw new Error(`404 ${p}`);
    return files.get(p);
  };
  return { files, fetchBytes, fetched, root: await rootFromLeafHashes(leaves) };
}

const entriesOf = (n) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`{"seq":${i}}`));
let big; // the 70,000-entry host, built once
const bigHost = async () => (big ||= await buildHost(entriesOf(70000)));

test('readTree over the spec example size 70,000: exactly the tiles the spec lists, all checked', async () => {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of
  // width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1"
  assert.match(SPEC, /size 70,000 will be represented by 273 full level 0\s+tiles, one partial level 0 tile of width 112/);
  const host = await bigHost();
  host.fetched.length = 0;
  const r = await readTree(host.fetchBytes, 70000, host.root);
  assert.equal(r.entries.length, 70000);
  const hashTiles = host.fetched.filter((p) => !p.startsWith('tile/entries/'));
  assert.equal(hashTiles.filter((p) => p.startsWith('tile/0/') && !p.includes('.p/')).length, 273);
  assert.deepEqual(hashTiles.filter((p) => p.includes('.p/')).sort(), ['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
  assert.ok(hashTiles.includes('tile/1/000'));
  assert.equal(r.tilesChecked, 273 + 1 + 1 + 1 + 1);
});

test('readTree detects a changed entry, a changed hash tile, a wrong root and a short bundle', async () => {
  const host = await buildHost(entriesOf(600));
  await readTree(host.fetchBytes, 600, host.root);
  const b0 = host.files.get('tile/entries/000').slice();
  b0[10] ^= 1;
  const t = { ...host, fetchBytes: async (p) => (p === 'tile/entries/000' ? b0 : host.files.get(p)) };
  await assert.rejects(readTree(t.fetchBytes, 600, host.root), (e) => e instanceof IntegrityError && /^tile\/0\/000: hash 0 does not match the entry below/.test(e.message));
  const t1 = host.files.get('tile/1/000.p/2').slice();
  t1[40] ^= 1;
  await assert.rejects(readTree(async (p) => (p === 'tile/1/000.p/2' ? t1 : host.files.get(p)), 600, host.root), /tile\/1\/000\.p\/2: hash 1 does not match the tiles below/);
  await assert.rejects(readTree(host.fetchBytes, 600, new Uint8Array(32)), /the entries do not hash to the checkpoint's root/);
  const short = encodeEntryBundle(entriesOf(87).slice(0, 86));
  await assert.rejects(readTree(async (p) => (p === 'tile/entries/002.p/88' ? short : host.files.get(p)), 600, host.root), /tile\/entries\/002\.p\/88: expected 88 entries, got 86/);
  await assert.rejects(readTree(host.fetchBytes, 599, host.root), /404/); // a size with no such partial bundle
});

test('inclusion proofs built from published hash tiles verify against the root', async () => {
  const host = await bigHost();
  const node = tileNodeReader(host.fetchBytes, 70000);
  for (const i of [0, 255, 256, 65535, 65536, 69999]) {
    const proof = await inclusionProofFromNodes(70000, i, node);
    await verifyInclusion(i, 70000, await leafHash(new TextEncoder().encode(`{"seq":${i}}`)), proof, host.root);
  }
});
