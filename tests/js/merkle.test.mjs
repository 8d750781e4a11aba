// RFC 6962 / RFC 9162 Merkle trees against the SAME interop vectors the Python side uses:
// tests/vectors/interop/merkle/ (transparency-dev/merkle testdata at commit 417fb0c3…, Apache-2.0; see
// its README): every inclusion and consistency probe, and the reference tree of testonly/constants.go
// (parsed from the Go source, not transcribed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import {
  leafHash, nodeHash, rootFromLeafHashes, rootFromNodes, perfectSubtrees, inclusionProofFromNodes,
  verifyInclusion, verifyConsistency, inclusionProofSize, consistencyProofSize, EMPTY_ROOT_HEX,
} from '../../theme/static/js/verify/merkle.js';
import { fromHex, toHex, fromBase64 } from '../../theme/static/js/verify/bytes.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';
import { setHashBackend } from '../../theme/static/js/verify/hash.js';

const VEC = new URL('../vectors/interop/merkle/', import.meta.url);
const src = readFileSync(new URL('constants.go', VEC), 'utf8');
const block = (fn) => { const s = src.indexOf(`func ${fn}(`); return src.slice(s, src.indexOf('\n}\n', s)); };
const hexes = (t) => [...t.matchAll(/hd\("([0-9a-f]*)"\)/g)].map((m) => fromHex(m[1]));
const LEAF_INPUTS = hexes(block('LeafInputs'));
const NODES = block('NodeHashes').split('}, {').map(hexes);
const ROOTS = [fromHex(EMPTY_ROOT_HEX), ...hexes(block('RootHashes'))];

function probes(kind) {
  const out = [];
  const walk = (u) => {
    for (const name of readdirSync(u).sort()) {
      const p = new URL(name, u);
      if (statSync(p).isDirectory()) walk(new URL(name + '/', u));
      else if (name.endsWith('.json')) out.push([p.pathname.split('/merkle/')[1], JSON.parse(readFileSync(p, 'utf8'))]);
    }
  };
  walk(new URL(kind + '/', VEC));
  return out;
}
// Go's base64 of a byte slice; null means an empty slice.
const b64 = (s) => (s ? Uint8Array.from(Buffer.from(s, 'base64')) : new Uint8Array(0));

test('constants.go parsed: 8 leaves, levels 8/4/2/1, 9 roots', () => {
  assert.equal(LEAF_INPUTS.length, 8);
  assert.deepEqual(NODES.map((l) => l.length), [8, 4, 2, 1]);
  assert.equal(ROOTS.length, 9);
});

for (const be of ['webcrypto', 'noble']) {
  test(`[${be}] reference leaf, node and root hashes of trees of size 0..8`, async () => {
    setHashBackend(be);
    const leaves = await Promise.all(LEAF_INPUTS.map(leafHash));
    assert.deepEqual(leaves.map(toHex), NODES[0].map(toHex));
    for (let lv = 1; lv < 4; lv++) {
      const below = NODES[lv - 1];
      for (let i = 0; i < below.length / 2; i++) assert.equal(toHex(await nodeHash(below[2 * i], below[2 * i + 1])), toHex(NODES[lv][i]));
    }
    for (let n = 0; n <= 8; n++) {
      assert.equal(toHex(await rootFromLeafHashes(leaves.slice(0, n))), toHex(ROOTS[n]), `root of size ${n}`);
      assert.equal(toHex(await rootFromNodes(n, (l, i) => NODES[l][i])), toHex(ROOTS[n]), `root from nodes, size ${n}`);
    }
    setHashBackend('auto');
  });
}

test('inclusion proofs built from stored nodes verify for every leaf of every reference tree', async () => {
  for (let n = 1; n <= 8; n++) {
    for (let i = 0; i < n; i++) {
      const proof = await inclusionProofFromNodes(n, i, (l, k) => NODES[l][k]);
      assert.equal(proof.length, inclusionProofSize(i, n));
      await verifyInclusion(i, n, NODES[0][i], proof, ROOTS[n]);
      await assert.rejects(verifyInclusion(i, n, NODES[0][(i + 1) % 8], proof, ROOTS[n]), IntegrityError);
    }
  }
});

const inclusion = probes('inclusion');
test(`transparency-dev inclusion probes (${inclusion.length})`, async () => {
  assert.ok(inclusion.length >= 90);
  let good = 0;
  for (const [name, p] of inclusion) {
    const run = () => verifyInclusion(p.leafIdx, p.treeSize, b64(p.leafHash), (p.proof || []).map(b64), b64(p.root));
    if (p.wantErr) {
      await assert.rejects(run(), (e) => e instanceof IntegrityError || e instanceof FormatError, name);
    } else {
      await run();
      good++;
    }
  }
  assert.ok(good > 0);
});

const consistency = probes('consistency');
// Upstream accepts equal sizes with equal 12-byte "roots" (it only compares them); like
// tests/test_merkle.py we reject a root that is not 32 bytes as malformed input.
const STRICTER_THAN_UPSTREAM = new Set(['consistency/additional/sizes-are-equal-one-and-proof-is-empty.json']);
test(`transparency-dev consistency probes (${consistency.length})`, async () => {
  assert.ok(consistency.length >= 90);
  let good = 0;
  for (const [name, p] of consistency) {
    const run = () => verifyConsistency(p.size1, p.size2, b64(p.root1), b64(p.root2), (p.proof || []).map(b64));
    if (STRICTER_THAN_UPSTREAM.has(name)) {
      assert.equal(p.wantErr, false);
      await assert.rejects(run(), /old root: expected a 32-byte hash, got 12 bytes/);
    } else if (p.wantErr) {
      await assert.rejects(run(), (e) => e instanceof IntegrityError || e instanceof FormatError, name);
    } else {
      await run();
      good++;
    }
  }
  assert.ok(good > 0);
});

test('proof sizes and perfect subtrees', () => {
  assert.deepEqual(perfectSubtrees(0, 7), [[2, 0], [1, 2], [0, 6]]);
  assert.deepEqual(perfectSubtrees(4, 8), [[2, 1]]);
  assert.deepEqual(perfectSubtrees(0, 0), []);
  assert.equal(inclusionProofSize(0, 1), 0);
  assert.equal(inclusionProofSize(6, 7), 2);
  assert.equal(consistencyProofSize(4, 8), 1);
  // RFC 9162 §2.1.5 example tree of 7 leaves: PROOF(3) = [c, d, g, l], PROOF(4) = [l], PROOF(6) = [i, j, k],
  assert.equal(consistencyProofSize(3, 7), 4);
  assert.equal(consistencyProofSize(4, 7), 1);
  assert.equal(consistencyProofSize(6, 7), 3);
  assert.equal(inclusionProofSize(0, 7), 3);
  assert.equal(inclusionProofSize(3, 7), 3);
});

test('malformed arguments are format errors; an index outside the tree is an integrity error', async () => {
  await assert.rejects(verifyInclusion(0, 1, new Uint8Array(31), [], ROOTS[1]), /leaf hash: expected a 32-byte hash, got 31 bytes/);
  await assert.rejects(verifyInclusion(-1, 1, NODES[0][0], [], ROOTS[1]), FormatError);
  await assert.rejects(verifyInclusion(1, 1, NODES[0][0], [], ROOTS[1]), /leaf index 1 is not in a tree of size 1/);
  await assert.rejects(verifyConsistency(5, 4, ROOTS[5], ROOTS[4], []), /the tree shrank: expected old size ≤ new size, got 5 > 4/);
  await assert.rejects(verifyConsistency(4, 4, ROOTS[4], ROOTS[5], []), /two different roots for the same size 4/);
  await verifyConsistency(0, 8, ROOTS[0], ROOTS[8], []);
  await assert.rejects(verifyConsistency(0, 8, ROOTS[1], ROOTS[8], []), /a tree of size 0 has root e3b0/);
});

test('a 1000-leaf tree: root from leaves equals root from nodes; random consistency proofs verify', async () => {
  const leaves = await Promise.all(Array.from({ length: 1000 }, (_, i) => leafHash(Uint8Array.of(i & 255, i >> 8))));
  // Build every perfect-subtree hash (level, index) from the leaves.
  const levels = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const b = levels[levels.length - 1];
    const up = [];
    for (let i = 0; i + 1 < b.length; i += 2) up.push(await nodeHash(b[i], b[i + 1]));
    levels.push(up);
  }
  const node = (l, i) => levels[l][i];
  for (const n of [1, 2, 3, 255, 256, 257, 999, 1000]) {
    const root = await rootFromLeafHashes(leaves.slice(0, n));
    assert.equal(toHex(await rootFromNodes(n, node)), toHex(root), `size ${n}`);
  }
  for (const [m, n] of [[1, 1000], [256, 1000], [300, 777], [999, 1000], [7, 8]]) {
    const proof = await consistencyProofFromLevels(m, n, node);
    await verifyConsistency(m, n, await rootFromNodes(m, node), await rootFromNodes(n, node), proof);
  }
});

// RFC 9162 §2.1.4.1 SUBPROOF, recursively, as an independent generator for the test above.
async function consistencyProofFromLevels(m, n, node) {
  const { subtreeHashFromNodes } = await import('../../theme/static/js/verify/merkle.js');
  const sub = async (m2, lo, hi, b) => {
    const size = hi - lo;
    if (m2 === size) return b ? [] : [await subtreeHashFromNodes(lo, hi, node)];
    let k = 1;
    while (k * 2 < size) k *= 2;
    if (m2 <= k) return [...(await sub(m2, lo, lo + k, b)), await subtreeHashFromNodes(lo + k, hi, node)];
    return [...(await sub(m2 - k, lo + k, hi, false)), await subtreeHashFromNodes(lo, lo + k, node)];
  };
  return sub(m, 0, n, true);
}
