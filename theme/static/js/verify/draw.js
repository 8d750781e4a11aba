// The draw (sunshine.draw/v1) recomputed from the ledger, byte for byte as generator/sunshine/draw.py and
// matching.py do it. Normative text: docs/spec/draw.md.
//
//   salt    = SHA-256(frame("sunshine.draw/v1", "salt", task, JCS(commit body)))
//   IKM     = frame(ALG, "ikm") || frame("drand", chain, decimal round, randomness)
//             || frame("lottery", name, RFC 3797 string)… || frame("contribution", department, secret)…
//   PRK     = HKDF-Extract(salt, IKM)  (the seed)
//   ticket  = HKDF-Expand(PRK, frame("target", stratum, label), 32)
//   per stratum, members ordered by (ticket, label): the first `sample` are selected, the next
//   min(N − n, max(n, 10)) are the recorded replacement queue
//   teams   = inspector matching (matching.js) over the selected targets in overall (ticket, label) order
import { sha256 } from './hash.js';
import { Expander } from './expander.js';
import { hkdfExtract } from './hash.js';
import { encodeCanonical, decodeCanonical } from './canonical.js';
import { leafHashes, rootFromLeafHashes } from './merkle.js';
import {
  ALGORITHM, frame, chainByHash, parseBeacon, verifyBeacon, encodeLottery, contributionCommitment,
} from './beacon.js';
import { MatchState } from './matching.js';
import { toHex, fromHex, utf8, concatBytes } from './bytes.js';
import { FormatError, IntegrityError, VerifyError } from './errors.js';

/** The draw cannot be carried out or recomputed as committed (a rule of the draw, not tampering). */
export class DrawError extends VerifyError {}

const LABEL_RE = /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/;
const ID_RE = LABEL_RE;
const REF_RE = /^sha256:[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const RATIO_RE = /^(0|[1-9][0-9]*)\/([1-9][0-9]*)$/;
const NOTICE_MODES = ['notified', 'no_notice'];
const REVEAL_MODES = ['with_randomness', 'with_list'];
const COMMIT_FIELDS = new Set(['algorithm', 'task', 'year', 'items', 'lead', 'participants', 'notice', 'draw_date', 'pool',
  'exclusions', 'cap_overrides', 'strata', 'sealed', 'inspectors', 'team', 'randomness']);

export async function blobRef(data) {
  return 'sha256:' + toHex(await sha256(data));
}

/** Hex SHA-256 of the canonical encoding of an entry body (how entries refer to each other). */
export async function bodyHash(body) {
  return toHex(await sha256(encodeCanonical(body)));
}

/** Fetch a blob with `getBlob(ref) -> Promise<Uint8Array>` and check it against its address. */
export async function fetchBlob(getBlob, ref, what) {
  if (typeof ref !== 'string' || !REF_RE.test(ref)) throw new FormatError(`${what}: expected a blob reference 'sha256:<64 hex>', got ${JSON.stringify(ref)}`);
  let data;
  try {
    data = await getBlob(ref);
  } catch (e) {
    throw new DrawError(`${what}: blob ${ref} is not available (${e.message})`);
  }
  const got = await blobRef(data);
  if (got !== ref) throw new IntegrityError(`${what}: blob content does not match its address: expected ${ref}, got ${got}`);
  return data;
}

const LABELS_BLOB_RE = /^\[(?:"[0-9A-Za-z][0-9A-Za-z._-]{0,63}"(?:,"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")*)?\]$/;

/** A labels blob: the canonical JSON array of valid labels, strictly ascending. */
export function decodeLabels(data, what) {
  let labels;
  let text = null;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(data); } catch { /* reported below */ }
  if (text !== null && LABELS_BLOB_RE.test(text)) {
    labels = text.length > 2 ? text.slice(2, -2).split('","') : [];
  } else {
    labels = decodeCanonical(data, what);
    if (!Array.isArray(labels)) throw new FormatError(`${what}: expected a JSON array of labels`);
    labels.forEach((l, i) => {
      if (typeof l !== 'string' || !LABEL_RE.test(l)) throw new FormatError(`${what}[${i}]: expected a label of 1–64 letters, digits, '.', '_' or '-', got ${JSON.stringify(l)}`);
    });
  }
  for (let i = 1; i < labels.length; i++) {
    if (!(labels[i - 1] < labels[i])) throw new FormatError(`${what}[${i}]: expected labels in strictly ascending order, got ${JSON.stringify(labels[i])} after ${JSON.stringify(labels[i - 1])}`);
  }
  return labels;
}

/** RFC 6962 Merkle tree hash over the sorted labels (leaf = UTF-8 label), hex. */
export async function poolRoot(labels) {
  return toHex(await rootFromLeafHashes(await leafHashes(labels.map(utf8))));
}

/** A ratio "p/q" in lowest terms with 0 < p/q <= 1, as [p, q] BigInts. */
export function parseRatio(text, what) {
  const m = typeof text === 'string' ? RATIO_RE.exec(text) : null;
  if (!m) throw new FormatError(`${what}: expected a ratio 'p/q' (integers), got ${JSON.stringify(text)}`);
  const p = BigInt(m[1]);
  const q = BigInt(m[2]);
  const gcd = (a, b) => (b === 0n ? a : gcd(b, a % b));
  if (p === 0n || p > q || gcd(p, q) !== 1n) throw new FormatError(`${what}: expected a ratio in lowest terms between 0 and 1, got ${JSON.stringify(text)}`);
  return [p, q];
}

/** min(N, max(minimum, ceil(N·p/q))), in integers. */
export function sampleSize(size, [p, q], minimum) {
  const n = Number((BigInt(size) * p + q - 1n) / q);
  return Math.min(size, Math.max(minimum, n));
}

/** How many queue entries the outcome records: min(N − n, max(n, 10)). */
export function queueLength(size, sample) {
  return Math.min(size - sample, Math.max(sample, 10));
}

export async function salt(commitBody) {
  if (typeof commitBody.task !== 'string') throw new FormatError(`commit: field 'task': expected a string, got ${JSON.stringify(commitBody.task)}`);
  return sha256(frame(ALGORITHM, 'salt', commitBody.task, encodeCanonical(commitBody)));
}

/** IKM from the revealed values {drandChain, drandRound, drandRandomness, lotteries:[[name, bytes]], contributions:[[dept, secret]]}. */
export function ikm(v) {
  const parts = [frame(ALGORITHM, 'ikm')];
  // §3.5: no drand frame when the commitment names no round (contributions only)
  if (v.drandChain !== null) parts.push(frame('drand', v.drandChain, String(v.drandRound), v.drandRandomness));
  for (const [name, key] of v.lotteries) parts.push(frame('lottery', name, key));
  for (const [dept, secret] of v.contributions) parts.push(frame('contribution', dept, secret));
  return concatBytes(...parts);
}

export async function seed(commitBody, values) {
  return hkdfExtract(await salt(commitBody), ikm(values));
}

// ---------------------------------------------------------------- the commitment

function get(obj, key, kind, what) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FormatError(`${what}: expected an object, got ${JSON.stringify(obj)}`);
  if (!(key in obj)) throw new FormatError(`${what}: missing field '${key}'`);
  const v = obj[key];
  const ok = kind === 'int' ? Number.isSafeInteger(v)
    : kind === 'array' ? Array.isArray(v)
      : kind === 'object' ? v !== null && typeof v === 'object' && !Array.isArray(v)
        : typeof v === kind;
  if (!ok) throw new FormatError(`${what}, field '${key}': expected ${kind === 'int' ? 'an integer' : kind}, got ${JSON.stringify(v)}`);
  return v;
}

function id(v, what) {
  if (typeof v !== 'string' || !ID_RE.test(v)) throw new FormatError(`${what}: expected an id of letters, digits, '.', '_' or '-', got ${JSON.stringify(v)}`);
  return v;
}

const sortedUniqueStrings = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string') && v.every((x, i) => i === 0 || v[i - 1] < x);

export async function stratumCommitment(task, label, stratum, nonce) {
  return toHex(await sha256(frame(ALGORITHM, 'stratum', task, label, stratum, nonce)));
}

/** Check a draw.commit body and load its blobs (as sunshine.draw.load_commitment). */
export async function loadCommitment(body, getBlob) {
  const w = 'draw.commit';
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new FormatError(`${w}: expected an object`);
  const unknown = Object.keys(body).filter((k) => !COMMIT_FIELDS.has(k)).sort();
  if (unknown.length) throw new FormatError(`${w}: unexpected field(s) ${unknown.join(', ')}`);
  get(body, 'year', 'int', w);
  if (!get(body, 'items', 'array', w).every((x) => typeof x === 'string')) throw new FormatError(`${w}, field 'items': expected a list of item ids`);
  get(body, 'draw_date', 'string', w);
  get(body, 'cap_overrides', 'array', w);
  const alg = get(body, 'algorithm', 'string', w);
  if (alg !== ALGORITHM) throw new DrawError(`${w}: expected algorithm '${ALGORITHM}', got '${alg}'`);
  const task = id(get(body, 'task', 'string', w), `${w}, field 'task'`);
  const lead = id(get(body, 'lead', 'string', w), `${w}, field 'lead'`);
  const participants = get(body, 'participants', 'array', w).map((p, i) => id(p, `${w}.participants[${i}]`));
  if (participants.includes(lead) || new Set(participants).size !== participants.length) {
    throw new FormatError(`${w}.participants: expected distinct departments other than the lead '${lead}'`);
  }
  const notice = get(body, 'notice', 'string', w);
  if (!NOTICE_MODES.includes(notice)) throw new FormatError(`${w}, field 'notice': expected one of ${NOTICE_MODES.join(', ')}, got '${notice}'`);

  const pool = get(body, 'pool', 'object', w);
  const size = get(pool, 'size', 'int', `${w}.pool`);
  const labels = decodeLabels(await fetchBlob(getBlob, get(pool, 'labels', 'string', `${w}.pool`), `${w}.pool.labels`), 'pool labels');
  if (labels.length !== size) throw new IntegrityError(`${w}.pool: expected ${size} labels (pool.size), got ${labels.length} in the labels blob`);
  const root = get(pool, 'root', 'string', `${w}.pool`);
  const computedRoot = await poolRoot(labels);
  if (computedRoot !== root) throw new IntegrityError(`${w}.pool: the Merkle root of the labels is ${computedRoot}, but the commitment says ${root}`);

  const excl = get(body, 'exclusions', 'object', w);
  const exclList = decodeCanonical(await fetchBlob(getBlob, get(excl, 'list', 'string', `${w}.exclusions`), `${w}.exclusions.list`), `${w}.exclusions.list`);
  if (!Array.isArray(exclList) || exclList.length !== get(excl, 'count', 'int', `${w}.exclusions`)) throw new FormatError(`${w}.exclusions: expected a list of exactly 'count' exclusions`);
  const poolSet = new Set(labels);
  exclList.forEach((e, i) => {
    const lb = get(e, 'label', 'string', `exclusions[${i}]`);
    get(e, 'reason', 'string', `exclusions[${i}]`);
    if (poolSet.has(lb)) throw new DrawError(`exclusions[${i}]: ${lb} is both excluded and in the pool`);
  });

  const sealedObj = body.sealed;
  const strataRaw = get(body, 'strata', 'array', w);
  if (strataRaw.length === 0) throw new FormatError(`${w}.strata: expected at least one stratum`);
  const strata = [];
  let members = sealedObj === undefined ? {} : null;
  const seenIds = new Set();
  let covered = 0;
  for (let i = 0; i < strataRaw.length; i++) {
    const s = strataRaw[i];
    const sw = `${w}.strata[${i}]`;
    const sid = id(get(s, 'id', 'string', sw), `${sw}, field 'id'`);
    if (seenIds.has(sid)) throw new FormatError(`${sw}: duplicate stratum id '${sid}'`);
    seenIds.add(sid);
    const ratio = parseRatio(get(s, 'ratio', 'string', sw), `${sw}, field 'ratio'`);
    const minimum = get(s, 'minimum', 'int', sw);
    const ssize = get(s, 'size', 'int', sw);
    const sample = get(s, 'sample', 'int', sw);
    if (minimum < 0 || ssize < 0) throw new FormatError(`${sw}: expected non-negative size and minimum`);
    const want = sampleSize(ssize, ratio, minimum);
    if (sample !== want) {
      throw new DrawError(`${sw} (${sid}): expected sample = min(N, max(minimum, ceil(N·ratio))) = ${want} for N = ${ssize}, ratio ${s.ratio}, minimum ${minimum}; got ${sample}`);
    }
    let ref = null;
    if (members !== null) {
      ref = get(s, 'members', 'string', sw);
      const m = decodeLabels(await fetchBlob(getBlob, ref, `${sw}.members`), `stratum ${sid} members`);
      if (m.length !== ssize) throw new IntegrityError(`${sw} (${sid}): expected ${ssize} members (size), got ${m.length}`);
      members[sid] = m;
    } else if ('members' in s) {
      throw new FormatError(`${sw}: a sealed stratum must not publish its members`);
    }
    covered += ssize;
    strata.push({ id: sid, label: get(s, 'label', 'string', sw), ratio, minimum, size: ssize, sample, membersRef: ref });
  }
  if (covered !== size) throw new IntegrityError(`${w}.strata: the stratum sizes add up to ${covered}, but the pool has ${size} members`);
  let sealedCommitments = null;
  if (members !== null) {
    const union = new Set();
    for (const m of Object.values(members)) for (const lb of m) union.add(lb);
    if (union.size !== size) throw new IntegrityError(`${w}.strata: some pool member is in more than one stratum`);
    for (const lb of union) if (!poolSet.has(lb)) throw new IntegrityError(`${w}.strata: the strata do not partition the pool (e.g. ${lb})`);
  } else {
    sealedCommitments = decodeCanonical(await fetchBlob(getBlob, get(sealedObj, 'commitments', 'string', `${w}.sealed`), `${w}.sealed.commitments`), `${w}.sealed.commitments`);
    if (!Array.isArray(sealedCommitments) || sealedCommitments.length !== size || !sealedCommitments.every((c) => typeof c === 'string' && HEX64.test(c))) {
      throw new FormatError(`${w}.sealed.commitments: expected ${size} hex SHA-256 commitments, one per pool label`);
    }
  }

  const insp = get(body, 'inspectors', 'object', w);
  const inspectors = decodeCanonical(await fetchBlob(getBlob, get(insp, 'list', 'string', `${w}.inspectors`), `${w}.inspectors.list`), `${w}.inspectors.list`);
  checkInspectors(inspectors, get(insp, 'count', 'int', `${w}.inspectors`), [lead, ...participants]);

  const team = get(body, 'team', 'object', w);
  for (const k of ['min_officers', 'per_department', 'experts']) {
    if (get(team, k, 'int', `${w}.team`) < 0) throw new FormatError(`${w}.team, field '${k}': expected a non-negative integer`);
  }
  if (team.per_department < 1) throw new FormatError(`${w}.team, field 'per_department': expected at least 1 (每个部门自行抽取检查人员)`);
  if (!sortedUniqueStrings(get(team, 'qualifications', 'array', `${w}.team`))) throw new FormatError(`${w}.team.qualifications: expected sorted unique strings`);

  const rnd = get(body, 'randomness', 'object', w);
  let chainHash = null;
  let round = null;
  if (!('drand' in rnd && rnd.drand === null)) { // null: no public beacon (docs/spec/draw.md §3.5)
    const drand = get(rnd, 'drand', 'object', `${w}.randomness`);
    chainHash = get(drand, 'chain', 'string', `${w}.randomness.drand`);
    const chain = await chainByHash(chainHash);
    if (get(drand, 'public_key', 'string', `${w}.randomness.drand`) !== chain.publicKey) {
      throw new IntegrityError(`${w}.randomness.drand: the public key is not the pinned key of chain ${chainHash}`);
    }
    round = get(drand, 'round', 'int', `${w}.randomness.drand`);
    if (round < 1) throw new FormatError(`${w}.randomness.drand, field 'round': expected >= 1, got ${round}`);
  }
  const lotteries = get(rnd, 'lotteries', 'array', `${w}.randomness`).map((l, i) => get(l, 'name', 'string', `${w}.randomness.lotteries[${i}]`));
  if (new Set(lotteries).size !== lotteries.length) throw new FormatError(`${w}.randomness.lotteries: expected distinct names`);
  const contributions = get(rnd, 'contributions', 'array', `${w}.randomness`).map((c, i) => {
    const cw = `${w}.randomness.contributions[${i}]`;
    const dept = get(c, 'department', 'string', cw);
    if (![lead, ...participants].includes(dept)) throw new FormatError(`${cw}: expected one of the task's departments, got '${dept}'`);
    const com = get(c, 'commitment', 'string', cw);
    if (!HEX64.test(com)) throw new FormatError(`${cw}, field 'commitment': expected 64 lowercase hex digits`);
    const mode = get(c, 'reveal', 'string', cw);
    if (!REVEAL_MODES.includes(mode)) throw new FormatError(`${cw}, field 'reveal': expected one of ${REVEAL_MODES.join(', ')}, got '${mode}'`);
    return [dept, com, mode];
  });
  if (new Set(contributions.map((c) => c[0])).size !== contributions.length) throw new FormatError(`${w}.randomness.contributions: at most one contribution per department`);
  if (chainHash === null && contributions.length === 0) {
    throw new DrawError(`${w}.randomness: a draw without a drand round needs at least one department contribution`);
  }
  if (notice === 'no_notice' && !contributions.some((c) => c[2] === 'with_list')) {
    throw new DrawError(`${w}: a no-notice task needs a contribution revealed with the list`);
  }
  return {
    body, task, lead, participants, notice, labels, strata, members, sealedCommitments, inspectors, team,
    drandChain: chainHash, drandRound: round, lotteries, contributions, sealed: sealedCommitments !== null,
  };
}

function checkInspectors(inspectors, count, departments) {
  const w = 'inspectors';
  if (!Array.isArray(inspectors) || inspectors.length !== count) throw new FormatError(`${w}: expected a list of ${count} inspector records`);
  let prev = null;
  const fields = ['capacity', 'conflicts', 'department', 'id', 'kind', 'qualifications'];
  inspectors.forEach((r, i) => {
    const iw = `${w}[${i}]`;
    const iid = id(get(r, 'id', 'string', iw), `${iw}, field 'id'`);
    if (prev !== null && !(prev < iid)) throw new FormatError(`${iw}: expected inspectors sorted by id, got '${iid}' after '${prev}'`);
    prev = iid;
    const dept = get(r, 'department', 'string', iw);
    if (!departments.includes(dept)) throw new FormatError(`${iw}, field 'department': expected one of ${departments.join(', ')}, got '${dept}'`);
    const kind = get(r, 'kind', 'string', iw);
    if (kind !== 'officer' && kind !== 'expert') throw new FormatError(`${iw}, field 'kind': expected officer or expert, got '${kind}'`);
    if (get(r, 'capacity', 'int', iw) < 1) throw new FormatError(`${iw}, field 'capacity': expected an integer >= 1`);
    for (const k of ['qualifications', 'conflicts']) if (!sortedUniqueStrings(get(r, k, 'array', iw))) throw new FormatError(`${iw}, field '${k}': expected sorted unique strings`);
    if (Object.keys(r).sort().join(',') !== fields.join(',')) throw new FormatError(`${iw}: unexpected fields`);
  });
}

// ---------------------------------------------------------------- randomness

/**
 * Check a draw.randomness body (and, for no-notice tasks, the draw.list_reveal's contributions) against
 * the commitment; verify the beacon; return the values in commit order.
 */
export async function loadRandomness(c, body, { listReveal, allowTestChain = false } = {}) {
  const w = 'draw.randomness';
  if (get(body, 'algorithm', 'string', w) !== ALGORITHM) throw new DrawError(`${w}: expected algorithm '${ALGORITHM}', got '${body.algorithm}'`);
  if (get(body, 'task', 'string', w) !== c.task) throw new DrawError(`${w}: expected task '${c.task}', got '${body.task}'`);
  const ch = await bodyHash(c.body);
  if (get(body, 'commit', 'string', w) !== ch) throw new IntegrityError(`${w}: refers to commitment ${body.commit}, but the task's commitment hashes to ${ch}`);
  let randomness = null;
  if (c.drandChain === null) { // §3.5: the commitment names no beacon, so the reveal carries none
    if (!('drand' in body) || body.drand !== null) throw new IntegrityError(`${w}.drand: expected null (the commitment names no drand round), got ${JSON.stringify(body.drand)}`);
  } else {
    const drand = get(body, 'drand', 'object', w);
    if (get(drand, 'chain', 'string', `${w}.drand`) !== c.drandChain) throw new IntegrityError(`${w}.drand: expected chain ${c.drandChain} (named in the commitment), got ${drand.chain}`);
    const b = await parseBeacon(get(drand, 'beacon', 'string', `${w}.drand`), `${w}.drand.beacon`);
    if (get(drand, 'round', 'int', `${w}.drand`) !== c.drandRound || b.round !== c.drandRound) {
      throw new IntegrityError(`${w}.drand: expected round ${c.drandRound} (named in the commitment), got round ${b.round}`);
    }
    const chain = await chainByHash(c.drandChain);
    randomness = await verifyBeacon(b, chain, { expectedRound: c.drandRound, allowTestChain });
  }

  const lots = get(body, 'lotteries', 'array', w);
  const names = lots.map((x, i) => get(x, 'name', 'string', `${w}.lotteries[${i}]`));
  if (names.join('\u0000') !== c.lotteries.join('\u0000') || names.length !== c.lotteries.length) {
    throw new IntegrityError(`${w}.lotteries: expected the lotteries named in the commitment, in order: ${JSON.stringify(c.lotteries)}`);
  }
  const lotteries = lots.map((x, i) => [x.name, encodeLottery(get(x, 'numbers', 'array', `${w}.lotteries[${i}]`), `${w}.lotteries[${i}].numbers`)]);

  const revealed = new Map();
  const sources = [[w, body]];
  if (listReveal) sources.push(['draw.list_reveal', listReveal]);
  for (const [sw, src] of sources) {
    get(src, 'contributions', 'array', sw).forEach((x, i) => {
      const cw = `${sw}.contributions[${i}]`;
      const dept = get(x, 'department', 'string', cw);
      const secretHex = get(x, 'secret', 'string', cw);
      if (!HEX64.test(secretHex)) throw new FormatError(`${cw}, field 'secret': expected 64 lowercase hex digits`);
      if (revealed.has(dept)) throw new FormatError(`${cw}: contribution of '${dept}' revealed twice`);
      revealed.set(dept, [sw, fromHex(secretHex)]);
    });
  }
  const contributions = [];
  for (const [dept, com, mode] of c.contributions) {
    const expectedWhere = mode === 'with_list' ? 'draw.list_reveal' : w;
    if (!revealed.has(dept)) throw new DrawError(`contribution of '${dept}' has not been revealed (expected in ${expectedWhere})`);
    const [where, secret] = revealed.get(dept);
    revealed.delete(dept);
    if (where !== expectedWhere) throw new DrawError(`contribution of '${dept}': expected it revealed in ${expectedWhere}, got it in ${where}`);
    const got = await contributionCommitment(c.task, dept, secret);
    if (got !== com) throw new IntegrityError(`contribution of '${dept}': the revealed secret hashes to ${got}, but the commitment is ${com}`);
    contributions.push([dept, secret]);
  }
  if (revealed.size) throw new FormatError(`contributions revealed for departments that committed none: ${[...revealed.keys()].sort().join(', ')}`);
  return { drandChain: c.drandChain, drandRound: c.drandRound, drandRandomness: randomness, lotteries, contributions };
}

// ---------------------------------------------------------------- selection

/** Per stratum: members ordered by (ticket, label); the first `sample` selected; then the queue. */
export function select(prk, assignment, strata) {
  const ex = new Expander(prk);
  return strata.map((s) => {
    const labels = assignment[s.id] || [];
    if (labels.length !== s.size) throw new IntegrityError(`stratum ${s.id}: expected ${s.size} members, got ${labels.length}`);
    const tickets = ex.block1Many(frame('target', s.id), labels.map(utf8));
    const k = Math.min(s.size, s.sample + queueLength(s.size, s.sample));
    // Only the k smallest (ticket, label) keys are needed. A numeric sort of the tickets' first 48 bits
    // finds a threshold; every member at or under it is a candidate (ties included), and only the
    // candidates are ordered by the full key: lowercase hex of the ticket, then the ASCII label, which
    // compares exactly like the bytes ticket || label.
    let candidates = [];
    if (k > 0) {
      const prefix = new Float64Array(labels.length);
      for (let i = 0; i < labels.length; i++) {
        const t = tickets[i];
        prefix[i] = (t[0] * 65536 + t[1] * 256 + t[2]) * 16777216 + (t[3] * 65536 + t[4] * 256 + t[5]);
      }
      const threshold = Float64Array.from(prefix).sort()[k - 1];
      for (let i = 0; i < labels.length; i++) if (prefix[i] <= threshold) candidates.push(i);
    }
    const keyed = candidates.map((i) => toHex(tickets[i]) + labels[i]);
    keyed.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const head = keyed.slice(0, k);
    const sel = head.slice(0, s.sample);
    return {
      id: s.id, size: s.size, sample: s.sample, labels, tickets,
      cutoff: sel.length ? sel[sel.length - 1].slice(0, 64) : null,
      selected: sel.map((k) => k.slice(64)),
      queue: head.slice(s.sample).map((k) => k.slice(64)),
      selectedKeys: sel,
    };
  });
}

/** Check an opening file against the sealed commitments; return stratum id -> labels (pool order). */
export async function openSealed(c, opening) {
  const w = 'opening';
  if (get(opening, 'task', 'string', w) !== c.task) throw new DrawError(`${w}: expected task '${c.task}', got '${opening.task}'`);
  const members = get(opening, 'members', 'array', w);
  if (members.length !== c.labels.length) throw new IntegrityError(`${w}: expected ${c.labels.length} members, got ${members.length}`);
  const ids = new Set(c.strata.map((s) => s.id));
  const assignment = Object.fromEntries(c.strata.map((s) => [s.id, []]));
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const mw = `${w}.members[${i}]`;
    if (get(m, 'label', 'string', mw) !== c.labels[i]) throw new IntegrityError(`${mw}: expected label ${c.labels[i]} (pool order), got ${m.label}`);
    const sid = get(m, 'stratum', 'string', mw);
    if (!ids.has(sid)) throw new FormatError(`${mw}: unknown stratum '${sid}'`);
    const nonce = get(m, 'nonce', 'string', mw);
    if (!HEX64.test(nonce)) throw new FormatError(`${mw}, field 'nonce': expected 64 lowercase hex digits`);
    if ((await stratumCommitment(c.task, c.labels[i], sid, fromHex(nonce))) !== c.sealedCommitments[i]) {
      throw new IntegrityError(`${mw}: ${c.labels[i]} does not open its sealed commitment to stratum '${sid}'`);
    }
    assignment[sid].push(c.labels[i]);
  }
  for (const s of c.strata) {
    if (assignment[s.id].length !== s.size) throw new IntegrityError(`${w}: stratum ${s.id} has ${assignment[s.id].length} members, but the commitment says ${s.size}`);
  }
  return assignment;
}

/** The draw from a checked commitment and verified randomness values. */
export async function computeDraw(c, values, { opening } = {}) {
  const prk = await seed(c.body, values);
  let assignment = c.members;
  if (c.sealed) {
    if (!opening) throw new DrawError(`task ${c.task}: the strata are sealed; the selection can be recomputed only with the opening file`);
    assignment = await openSealed(c, opening);
  }
  const strata = select(prk, assignment, c.strata);
  const keyed = [];
  for (const s of strata) for (const k of s.selectedKeys) keyed.push([k, s.id]);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const selected = keyed.map(([k]) => k.slice(64));
  const stratumOf = Object.fromEntries(keyed.map(([k, sid]) => [k.slice(64), sid]));
  const state = new MatchState(prk, c.inspectors, c.lead, c.participants, c.team);
  const teams = selected.map((lb) => state.assign(lb));
  return { task: c.task, seed: prk, sealed: c.sealed, strata, selected, stratumOf, teams, state };
}

/** Verification entry point: the draw as it must have come out of these inputs. */
export async function recompute(commitBody, randomnessBody, getBlob, { listReveal, opening, allowTestChain = false } = {}) {
  const c = await loadCommitment(commitBody, getBlob);
  const values = await loadRandomness(c, randomnessBody, { listReveal, allowTestChain });
  return computeDraw(c, values, { opening });
}

/** The canonical outcome document (stored as a blob; draw.lock holds its reference). */
export function outcomeDocument(o) {
  return {
    algorithm: ALGORITHM,
    task: o.task,
    seed: toHex(o.seed),
    strata: o.strata.map((s) => {
      const d = { id: s.id, size: s.size, sample: s.sample, cutoff: s.cutoff };
      if (!o.sealed) { d.selected = [...s.selected]; d.queue = [...s.queue]; }
      return d;
    }),
    selected: [...o.selected],
    teams: o.teams.map((t) => ({ target: t.target, leader: t.leader, officers: [...t.officers], experts: [...t.experts] })),
  };
}

/**
 * Differences between a recomputed outcome and a draw.lock body, in plain Chinese. An empty list means
 * the lock is exactly what the inputs produce.
 */
export async function compareWithLock(o, lock, getBlob, { commitBody, randomnessBody }) {
  const diffs = [];
  if (lock.task !== o.task) diffs.push(`锁定记录属于任务 ${lock.task}，不是 ${o.task}`);
  if (lock.algorithm !== ALGORITHM) diffs.push(`锁定记录使用的算法是 ${lock.algorithm}，应为 ${ALGORITHM}`);
  if (lock.commit !== (await bodyHash(commitBody))) diffs.push('锁定记录引用的摇号承诺与本任务的承诺记录不一致');
  if (lock.randomness !== (await bodyHash(randomnessBody))) diffs.push('锁定记录引用的随机数与本任务公布的随机数记录不一致');
  if (lock.selected_count !== o.selected.length) diffs.push(`锁定记录称抽中 ${lock.selected_count} 户，按公开输入重算应抽中 ${o.selected.length} 户`);
  const expected = encodeCanonical(outcomeDocument(o));
  if (lock.outcome === (await blobRef(expected))) return diffs;
  let doc;
  try {
    doc = decodeCanonical(await fetchBlob(getBlob, lock.outcome, 'draw.lock.outcome'), 'draw.lock.outcome');
  } catch (e) {
    return [...diffs, `无法读取锁定记录中的抽取结果文件（${e.message}）`];
  }
  return [...diffs, ...describeDifferences(outcomeDocument(o), doc)];
}

/** Plain-Chinese differences between the recomputed outcome document and a published one. */
export function describeDifferences(expected, got) {
  const out = [];
  if (got === null || typeof got !== 'object' || Array.isArray(got)) return ['锁定记录中的抽取结果不是 JSON 对象'];
  if (got.seed !== expected.seed) out.push('锁定记录中的种子与由承诺和随机数推导出的种子不同');
  const gotStrata = new Map((Array.isArray(got.strata) ? got.strata : []).filter((s) => s && typeof s === 'object').map((s) => [s.id, s]));
  const expIds = new Set(expected.strata.map((s) => s.id));
  for (const es of expected.strata) {
    const gs = gotStrata.get(es.id);
    if (!gs) { out.push(`分层 ${es.id}：锁定记录中缺少该分层`); continue; }
    for (const k of ['size', 'sample', 'cutoff']) {
      if (gs[k] !== es[k]) out.push(`分层 ${es.id}：锁定记录的 ${k} 为 ${JSON.stringify(gs[k])}，重算结果为 ${JSON.stringify(es[k])}`);
    }
    for (const [k, what] of [['selected', '抽中'], ['queue', '候补']]) {
      if (!(k in es)) continue;
      const g = Array.isArray(gs[k]) ? gs[k] : [];
      if (JSON.stringify(g) !== JSON.stringify(es[k])) {
        const extra = g.filter((x) => !es[k].includes(x));
        const missing = es[k].filter((x) => !g.includes(x));
        if (extra.length || missing.length) {
          out.push(`分层 ${es.id}：锁定记录${what}了 ${extra.slice(0, 5).join('、') || '（无多余对象）'}，应为 ${missing.slice(0, 5).join('、') || '（无）'}`);
        } else {
          out.push(`分层 ${es.id}：锁定记录${what}的对象正确，但顺序不对`);
        }
      }
    }
  }
  for (const sid of gotStrata.keys()) if (!expIds.has(sid)) out.push(`分层 ${sid}：出现在锁定记录中，但承诺中没有`);
  if (JSON.stringify(got.selected) !== JSON.stringify(expected.selected) && !out.some((d) => d.includes('抽中了'))) {
    out.push('按签号排序的抽中名单整体不同');
  }
  const gotTeams = new Map((Array.isArray(got.teams) ? got.teams : []).filter((t) => t && typeof t === 'object').map((t) => [t.target, t]));
  const names = { leader: '组长', officers: '执法人员', experts: '专家' };
  for (const et of expected.teams) {
    const gt = gotTeams.get(et.target);
    if (!gt) { out.push(`检查对象 ${et.target}：锁定记录中没有检查组`); continue; }
    for (const k of ['leader', 'officers', 'experts']) {
      if (JSON.stringify(gt[k]) !== JSON.stringify(et[k])) out.push(`检查对象 ${et.target}：锁定记录的${names[k]}为 ${JSON.stringify(gt[k])}，重算结果为 ${JSON.stringify(et[k])}`);
    }
  }
  const expTargets = new Set(expected.teams.map((t) => t.target));
  for (const t of gotTeams.keys()) if (!expTargets.has(t)) out.push(`检查对象 ${t}：锁定记录为未被抽中的对象安排了检查组`);
  if (out.length === 0) out.push('锁定记录中的抽取结果与重算结果的字节不同（字段顺序、写法或多余字段）');
  return out;
}

/** A member's ticket (hex), for "look up my enterprise" on the portal. */
export async function ticketOf(prk, stratum, label) {
  return toHex(new Expander(prk).block1(frame('target', stratum, label)));
}

/**
 * Replace a drawn target (e.g. found deregistered) by the next unused member of its stratum's recorded
 * queue and draw its team (no new randomness), updating `o`. Returns {replacement, team}.
 */
export function replaceTarget(o, target) {
  const sid = o.stratumOf[target];
  if (sid === undefined || !o.state.teams.has(target)) throw new DrawError(`target ${target}: not among the task's current targets`);
  const s = o.strata.find((x) => x.id === sid);
  const used = new Set(Object.keys(o.stratumOf));
  const next = s.queue.find((lb) => !used.has(lb));
  if (next === undefined) throw new DrawError(`stratum ${sid}: the recorded replacement queue (${s.queue.length} targets) is used up`);
  o.state.drop(target);
  const team = o.state.assign(next);
  o.stratumOf[next] = sid;
  return { replacement: next, team };
}

const TARGET_REASONS = { deregistered: '已注销', revoked: '已吊销', moved_out: '已迁出', not_in_scope: '不属于抽查对象范围' };
const INSPECTOR_REASONS = { post_change: '岗位调整', work_conflict: '工作冲突', health: '健康状况', recusal: '执法回避' };

/**
 * Replay draw.replace_target / draw.replace_inspector bodies in ledger order on a recomputed outcome
 * (docs/spec/draw.md §12 step 5). Each must name the replacement the recorded queue or ranking
 * designates, a reason from the closed list and the right approver, and refer to the lock.
 * Returns [{index, zh, en}] for each that does not hold (the outcome follows the designated one).
 */
export async function replayReplacements(o, lockBody, replacements) {
  const problems = [];
  const lockHash = await bodyHash(lockBody);
  for (let i = 0; i < replacements.length; i++) {
    const { type, body: b } = replacements[i];
    const bad = (zh, en) => problems.push({ index: i, zh, en });
    if (b.lock !== lockHash) bad(`替换记录引用的锁定记录不是本任务的锁定记录`, `${type}: lock ${b.lock} is not ${lockHash}`);
    if (!['deputy_head', 'head'].includes(b.approver_role)) bad(`替换未写明批准人（分管负责人或主要负责人）`, `${type}: approver_role ${JSON.stringify(b.approver_role)}`);
    try {
      if (type === 'draw.replace_target') {
        if (!(b.reason in TARGET_REASONS)) bad(`替换检查对象的理由“${b.reason}”不在规定的理由之内（已注销、已吊销、已迁出、不属于抽查对象范围）`, `reason ${b.reason}`);
        const { replacement } = replaceTarget(o, b.target);
        if (b.replacement !== replacement) {
          bad(`检查对象 ${b.target} 应由候补队列中的下一位 ${replacement} 替换，记录却写的是 ${b.replacement}`,
            `target ${b.target} must be replaced by ${replacement}, the entry says ${b.replacement}`);
        }
      } else {
        if (!(b.reason in INSPECTOR_REASONS)) bad(`更换检查人员的理由“${b.reason}”不在规定的理由之内（岗位调整、工作冲突、健康状况、执法回避）`, `reason ${b.reason}`);
        if (b.approver_role !== 'deputy_head') bad('更换检查人员应由分管负责人批准', `approver_role ${b.approver_role}`);
        const before = o.state.teams.get(b.target);
        const team = o.state.replace(b.target, b.inspector);
        const old = new Set([...before.officers, ...before.experts]);
        const added = [...team.officers, ...team.experts].filter((x) => !old.has(x));
        if (added.length !== 1 || added[0] !== b.replacement) {
          bad(`检查对象 ${b.target} 的检查人员 ${b.inspector} 应由同一排序中的下一位合格人员 ${added.join('、')} 替换，记录却写的是 ${b.replacement}`,
            `inspector ${b.inspector} of ${b.target} must be replaced by ${added.join(', ')}, the entry says ${b.replacement}`);
        }
      }
    } catch (e) {
      bad(`替换记录无法执行：${e.message}`, e.message);
    }
  }
  return problems;
}

/**
 * Where one pool member stands in a recomputed draw (public strata): its stratum, ticket (hex), rank in
 * (ticket, label) order (1 = smallest), the stratum's size, sample and cut-off ticket, and whether it was
 * selected. null when the label is not in any stratum of the outcome.
 */
export function explainTarget(o, label) {
  for (const s of o.strata) {
    const i = s.labels.indexOf(label);
    if (i < 0) continue;
    const key = toHex(s.tickets[i]) + label;
    let rank = 1;
    for (let j = 0; j < s.labels.length; j++) if (j !== i && toHex(s.tickets[j]) + s.labels[j] < key) rank++;
    return { stratum: s.id, ticket: key.slice(0, 64), rank, size: s.size, sample: s.sample, cutoff: s.cutoff, selected: rank <= s.sample };
  }
  return null;
}

/**
 * What the public can check of a draw with sealed strata (docs/spec/draw.md §8), without the opening
 * file: the seed; the strata's sizes, sample counts and cut-offs against the commitment; the number of
 * selected targets; that every selected target is in the pool and has, in some stratum, a ticket not
 * above that stratum's cut-off; that each stratum's cut-off is reached by at least `sample` selected
 * targets; and the inspector teams, recomputed from the published order. Returns {diffs (plain Chinese),
 * selected}. A full recomputation needs the opening file (recompute(…, {opening})).
 */
export async function checkSealedOutcome(c, values, lock, getBlob) {
  const diffs = [];
  const prk = await seed(c.body, values);
  let doc;
  try {
    doc = decodeCanonical(await fetchBlob(getBlob, lock.outcome, 'draw.lock.outcome'), 'draw.lock.outcome');
  } catch (e) {
    return { diffs: [`无法读取锁定记录中的抽取结果文件（${e.message}）`], selected: [] };
  }
  if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.selected) || !Array.isArray(doc.strata) || !Array.isArray(doc.teams)) {
    return { diffs: ['锁定记录中的抽取结果格式不正确'], selected: [] };
  }
  if (doc.algorithm !== ALGORITHM || doc.task !== c.task) diffs.push('锁定记录中的抽取结果不属于本任务或算法不符');
  if (doc.seed !== toHex(prk)) diffs.push('锁定记录中的种子与由承诺和随机数推导出的种子不同');
  const total = c.strata.reduce((a, s) => a + s.sample, 0);
  if (doc.selected.length !== total) diffs.push(`锁定记录抽中 ${doc.selected.length} 户，承诺中各分层抽取数之和为 ${total} 户`);
  if (lock.selected_count !== doc.selected.length) diffs.push(`锁定记录称抽中 ${lock.selected_count} 户，结果文件中为 ${doc.selected.length} 户`);
  const byId = new Map(doc.strata.map((s) => [s && s.id, s]));
  for (const s of c.strata) {
    const d = byId.get(s.id);
    if (!d) { diffs.push(`分层 ${s.id}：锁定记录中缺少该分层`); continue; }
    if (d.size !== s.size || d.sample !== s.sample) diffs.push(`分层 ${s.id}：锁定记录的户数或抽取数与承诺不同`);
    if ('selected' in d || 'queue' in d) diffs.push(`分层 ${s.id}：封存分层不应公布分层名单`);
    if (!(d.cutoff === null ? s.sample === 0 : typeof d.cutoff === 'string' && /^[0-9a-f]{64}$/.test(d.cutoff) && s.sample > 0)) {
      diffs.push(`分层 ${s.id}：分界签值格式不正确`);
    }
  }
  if (doc.strata.length !== c.strata.length) diffs.push('锁定记录中的分层与承诺中的分层不一致');
  const pool = new Set(c.labels);
  const ex = new Expander(prk);
  const reached = new Map(c.strata.map((s) => [s.id, 0]));
  const seen = new Set();
  for (const lb of doc.selected) {
    if (typeof lb !== 'string' || !pool.has(lb)) { diffs.push(`抽中的 ${JSON.stringify(lb)} 不在承诺的检查对象名录中`); continue; }
    if (seen.has(lb)) { diffs.push(`${lb} 在抽中名单中出现了两次`); continue; }
    seen.add(lb);
    let inSome = false;
    for (const s of c.strata) {
      const d = byId.get(s.id);
      if (!d || !d.cutoff) continue;
      if (toHex(ex.block1(frame('target', s.id, lb))) <= d.cutoff) { inSome = true; reached.set(s.id, reached.get(s.id) + 1); }
    }
    if (!inSome) diffs.push(`检查对象 ${lb} 的签值在任何分层都超过了入选分界，不可能被抽中`);
  }
  for (const s of c.strata) {
    if (reached.get(s.id) < s.sample) diffs.push(`分层 ${s.id}：签值不超过分界的入选对象只有 ${reached.get(s.id)} 户，少于抽取数 ${s.sample} 户`);
  }
  if (!diffs.length) {
    const state = new MatchState(prk, c.inspectors, c.lead, c.participants, c.team);
    const teams = doc.selected.map((lb) => state.assign(lb));
    const want = encodeCanonical(teams.map((t) => ({ experts: t.experts, leader: t.leader, officers: t.officers, target: t.target })));
    const got = encodeCanonical(doc.teams);
    if (toHex(want) !== toHex(got)) {
      const g = new Map(doc.teams.map((t) => [t && t.target, t]));
      for (const t of teams) {
        const o = g.get(t.target);
        if (!o || JSON.stringify([o.leader, o.officers, o.experts]) !== JSON.stringify([t.leader, t.officers, t.experts])) {
          diffs.push(`检查对象 ${t.target}：锁定记录的检查组与按公开排序重算的不同（应为组长 ${t.leader}，成员 ${t.officers.concat(t.experts).join('、')}）`);
        }
      }
      if (!diffs.length) diffs.push('锁定记录中的检查组与重算结果的写法不同');
    }
  }
  return { diffs, selected: doc.selected };
}
