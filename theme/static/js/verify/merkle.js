// RFC 6962 / RFC 9162 §2.1 Merkle trees: hashing, roots from leaves or from stored subtree hashes, and
// verification of inclusion and consistency proofs. Mirrors generator/sunshine/merkle.py.
//
//   empty tree  SHA-256("")
//   leaf        SHA-256(0x00 || entry)
//   node        SHA-256(0x01 || left || right)
//   MTH(D[n])   node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two smaller than n
//
// Node coordinates (level, index) name the perfect subtree of 2^level leaves starting at index·2^level;
// level 0 are the leaf hashes (tlog-tiles stores the levels that are multiples of 8).
//
// Sizes and indexes are JS numbers, limited to 2^53 − 1 (FormatError beyond); no 32-bit bit operators
// are used on them. Malformed arguments raise FormatError; a proof that does not hold, IntegrityError.
import { sha256, sha256Sync, hashBackend } from './hash.js';
import { concatBytes, toHex, bytesEqual } from './bytes.js';
import { FormatError, IntegrityError } from './errors.js';

export const HASH_SIZE = 32;
export const EMPTY_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const ZERO = Uint8Array.of(0);
const ONE = Uint8Array.of(1);

export async function leafHash(entry) {
  return sha256(concatBytes(ZERO, entry));
}

export async function nodeHash(left, right) {
  return sha256(concatBytes(ONE, left, right));
}

/** Synchronous leaf and node hashes (pure JS): bulk hashing without a promise per hash. */
export function leafHashSync(entry) {
  return sha256Sync(concatBytes(ZERO, entry));
}

const nodeBuf = new Uint8Array(65);
nodeBuf[0] = 1;
export function nodeHashSync(left, right) {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return sha256Sync(nodeBuf);
}

/** Leaf hashes of many entries (synchronous unless the WebCrypto backend is forced). */
export async function leafHashes(entries) {
  if (hashBackend() === 'webcrypto') return Promise.all(entries.map(leafHash));
  return entries.map(leafHashSync);
}

function checkHash(h, what) {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new FormatError(`${what}: expected a ${HASH_SIZE}-byte hash, got ${h instanceof Uint8Array ? h.length + ' bytes' : typeof h}`);
  }
  return h;
}

function checkSize(n, what) {
  if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`${what}: expected an integer 0..2^53-1, got ${n}`);
  return n;
}

const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);
const bitLength = (n) => (n === 0 ? 0 : n.toString(2).length);
const popcount = (n) => n.toString(2).replace(/0/g, '').length;
const pow2 = (k) => 2 ** k;
/** The largest power of two smaller than n (n >= 2). */
const split = (n) => pow2(bitLength(n - 1) - 1);

/** MTH over a list of leaf hashes (RFC 9162 §2.1.1), iteratively, level by level. */
export async function rootFromLeafHashes(leafHashes) {
  if (leafHashes.length === 0) return sha256(new Uint8Array(0));
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`));
  // Hash level by level; an odd last node is carried up unchanged, which gives MTH's split at the
  // largest power of two (RFC 6962 trees are left-full).
  const sync = hashBackend() !== 'webcrypto';
  let level = leafHashes;
  while (level.length > 1) {
    let next;
    if (sync) {
      next = new Array(Math.ceil(level.length / 2));
      for (let i = 0; i + 1 < level.length; i += 2) next[i / 2] = nodeHashSync(level[i], level[i + 1]);
    } else {
      const pairs = [];
      for (let i = 0; i + 1 < level.length; i += 2) pairs.push(nodeHash(level[i], level[i + 1]));
      next = await Promise.all(pairs);
    }
    if (odd(level.length)) next[next.length - (sync ? 1 : 0)] = level[level.length - 1];
    level = next;
  }
  return level[0];
}

/** The (level, index) of the maximal perfect subtrees covering leaves [lo, hi), left to right. */
export function perfectSubtrees(lo, hi) {
  const nodes = [];
  while (lo < hi) {
    let level = 0;
    if (lo === 0) level = bitLength(hi) - 1;
    else while (lo % pow2(level + 1) === 0) level++; // the largest power of two dividing lo
    while (pow2(level) > hi - lo) level--;
    nodes.push([level, lo / pow2(level)]);
    lo += pow2(level);
  }
  return nodes;
}

/** MTH of the leaves [lo, hi) from stored perfect-subtree hashes; `node(level, index)` may be async. */
export async function subtreeHashFromNodes(lo, hi, node) {
  const parts = perfectSubtrees(lo, hi);
  if (parts.length === 0) return sha256(new Uint8Array(0));
  const hashes = await Promise.all(parts.map(([l, i]) => node(l, i)));
  hashes.forEach((h, j) => checkHash(h, `node (${parts[j][0]}, ${parts[j][1]})`));
  let result = hashes[hashes.length - 1];
  for (let j = hashes.length - 2; j >= 0; j--) result = await nodeHash(hashes[j], result);
  return result;
}

export async function rootFromNodes(size, node) {
  checkSize(size, 'size');
  return subtreeHashFromNodes(0, size, node);
}

/** RFC 9162 PATH(index, D[0:size]) from stored node hashes: the inclusion proof of leaf `index`. */
export async function inclusionProofFromNodes(size, index, node) {
  checkSize(size, 'size');
  checkSize(index, 'index');
  if (index >= size) throw new IntegrityError(`leaf index ${index} is not in a tree of size ${size} (expected index < size)`);
  const stack = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index - lo < k) { stack.push([lo + k, hi]); hi = lo + k; } else { stack.push([lo, lo + k]); lo += k; }
  }
  const proof = [];
  for (let j = stack.length - 1; j >= 0; j--) proof.push(await subtreeHashFromNodes(stack[j][0], stack[j][1], node));
  return proof;
}

function decompInclusion(index, size) {
  // inner = bit length of (index XOR (size-1)); border = popcount(index >> inner)
  let a = index;
  let b = size - 1;
  let inner = 0;
  let x = 0;
  // XOR bit length without 32-bit operators.
  for (let k = 0; a > 0 || b > 0; k++) {
    if (a % 2 !== b % 2) x = k + 1;
    a = half(a); b = half(b);
  }
  inner = x;
  const border = popcount(Math.floor(index / pow2(inner)));
  return [inner, border];
}

export function inclusionProofSize(index, size) {
  const [inner, border] = decompInclusion(index, size);
  return inner + border;
}

export function consistencyProofSize(oldSize, newSize) {
  if (oldSize === 0 || oldSize === newSize) return 0;
  let shift = 0;
  while (oldSize % pow2(shift + 1) === 0) shift++;
  let [inner, border] = decompInclusion(oldSize - 1, newSize);
  inner -= shift;
  const start = oldSize === pow2(shift) ? 0 : 1;
  return start + inner + border;
}

/**
 * Check that `leaf` is leaf `index` of the tree of `size` leaves with hash `root` (RFC 9162 §2.1.3.2).
 * Resolves on success; rejects with IntegrityError otherwise.
 */
export async function verifyInclusion(index, size, leaf, proof, root) {
  checkSize(index, 'index');
  checkSize(size, 'size');
  checkHash(leaf, 'leaf hash');
  checkHash(root, 'root');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  if (index >= size) throw new IntegrityError(`leaf index ${index} is not in a tree of size ${size} (expected index < size)`);
  const want = inclusionProofSize(index, size);
  if (proof.length !== want) {
    throw new IntegrityError(`inclusion proof of leaf ${index} in a tree of size ${size}: expected ${want} hashes, got ${proof.length}`);
  }
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new IntegrityError('inclusion proof is longer than the path to the root');
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) while (fn !== 0 && !odd(fn)) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0 || !bytesEqual(r, root)) {
    throw new IntegrityError(`inclusion proof of leaf ${index} in a tree of size ${size} does not verify: expected root ${toHex(root)}, got ${toHex(r)}`);
  }
}

/**
 * Check that the tree (newSize, newRoot) extends (oldSize, oldRoot) (RFC 9162 §2.1.4.2), with the
 * trivial cases: equal sizes need equal roots and an empty proof; old size 0 needs the empty-tree hash.
 */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  checkSize(oldSize, 'old size');
  checkSize(newSize, 'new size');
  checkHash(oldRoot, 'old root');
  checkHash(newRoot, 'new root');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  if (oldSize > newSize) throw new IntegrityError(`the tree shrank: expected old size ≤ new size, got ${oldSize} > ${newSize}`);
  const want = consistencyProofSize(oldSize, newSize);
  if (proof.length !== want) {
    throw new IntegrityError(`consistency proof from size ${oldSize} to ${newSize}: expected ${want} hashes, got ${proof.length}`);
  }
  if (oldSize === newSize) {
    if (!bytesEqual(oldRoot, newRoot)) throw new IntegrityError(`two different roots for the same size ${oldSize}: ${toHex(oldRoot)} and ${toHex(newRoot)}`);
    return;
  }
  if (oldSize === 0) {
    if (toHex(oldRoot) !== EMPTY_ROOT_HEX) throw new IntegrityError(`a tree of size 0 has root ${EMPTY_ROOT_HEX}, got ${toHex(oldRoot)}`);
    return;
  }
  let path = proof;
  if (oldSize === pow2(bitLength(oldSize) - 1)) path = [oldRoot, ...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new IntegrityError('consistency proof is longer than needed');
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!odd(fn)) while (fn !== 0 && !odd(fn)) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new IntegrityError(`consistency proof from size ${oldSize} to ${newSize} is too short`);
  if (!bytesEqual(fr, oldRoot)) {
    throw new IntegrityError(`consistency proof from size ${oldSize} to ${newSize} does not verify: expected old root ${toHex(oldRoot)}, got ${toHex(fr)}`);
  }
  if (!bytesEqual(sr, newRoot)) {
    throw new IntegrityError(`consistency proof from size ${oldSize} to ${newSize} does not verify: expected new root ${toHex(newRoot)}, got ${toHex(sr)}`);
  }
}
