// Benchmark: re-verify a draw over a 100,000-member pool with the in-browser verifier's code (node).
// Prints the time of each phase. Run:  node bench/bench_js_verify.mjs [pool size]
//
// The inputs are synthetic (fictional labels, two strata, 120 officers) but the randomness is the real
// drand quicknet round 32000000 recorded in tests/vectors/drand/, so the BLS verification is real.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadCommitment, loadRandomness, computeDraw, outcomeDocument, blobRef, poolRoot, sampleSize, parseRatio, bodyHash } from '../theme/static/js/verify/draw.js';
import { QUICKNET, ALGORITHM } from '../theme/static/js/verify/beacon.js';
import { encodeCanonical } from '../theme/static/js/verify/canonical.js';
import { setHashBackend, hashBackend } from '../theme/static/js/verify/hash.js';
import { utf8 } from '../theme/static/js/verify/bytes.js';

const N = Number(process.argv[2] || 100000);
const beaconText = readFileSync(new URL('../tests/vectors/drand/quicknet-32000000.json', import.meta.url), 'utf8').trim();

const blobs = new Map();
const put = async (bytes) => { const ref = await blobRef(bytes); blobs.set(ref, bytes); return ref; };
const labelsBlob = (ls) => utf8(ls.length ? '["' + ls.join('","') + '"]' : '[]');

let t = performance.now();
const labels = Array.from({ length: N }, (_, i) => `91379900MA${String(i).padStart(7, '0')}X`);
const abnormal = labels.filter((_, i) => i % 20 === 7);
const rest = labels.filter((_, i) => i % 20 !== 7);
const strata = [
  { id: 'abnormal', label: '经营异常', ratio: '1/10', minimum: 0, members: abnormal },
  { id: 'rest', label: '其他', ratio: '3/100', minimum: 1, members: rest },
];
const inspectors = Array.from({ length: 120 }, (_, i) => ({
  capacity: 60, conflicts: [], department: 'amr', id: `AMR-${String(i).padStart(3, '0')}`, kind: 'officer', qualifications: ['food'],
}));
const commit = {
  algorithm: ALGORITHM, task: 'bench-01', year: 2026, items: ['AMR-03'], lead: 'amr', participants: [], notice: 'notified',
  draw_date: '2026-09-07',
  pool: { size: N, labels: await put(labelsBlob(labels)), root: await poolRoot(labels) },
  exclusions: { count: 0, list: await put(utf8('[]')) },
  cap_overrides: [],
  strata: [],
  inspectors: { count: inspectors.length, list: await put(encodeCanonical(inspectors)) },
  team: { experts: 0, min_officers: 2, per_department: 1, qualifications: ['food'] },
  randomness: { drand: { chain: QUICKNET.chain, public_key: QUICKNET.publicKey, round: 32000000 }, lotteries: [], contributions: [] },
};
commit.randomness.drand.chain = QUICKNET.chainHash;
for (const s of strata) {
  commit.strata.push({ id: s.id, label: s.label, ratio: s.ratio, minimum: s.minimum, size: s.members.length,
    sample: sampleSize(s.members.length, parseRatio(s.ratio, s.id), s.minimum), members: await put(labelsBlob(s.members)) });
}
const randomness = {
  algorithm: ALGORITHM, task: 'bench-01', commit: await bodyHash(commit), contributions: [], lotteries: [],
  drand: { beacon: beaconText, chain: QUICKNET.chainHash, round: 32000000 },
};
const getBlob = async (ref) => blobs.get(ref);
console.log(`inputs built (pool ${N}, ${strata.map((s) => s.members.length).join(' + ')}): ${(performance.now() - t).toFixed(0)} ms (not part of verification)`);

// Wall time and this process's CPU time (user + system) per phase: on a busy machine the CPU time is the
// figure to compare.
function clock() {
  const w = performance.now();
  const c = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(c);
    return { wall: performance.now() - w, cpu: (d.user + d.system) / 1000 };
  };
}
const fmt = (t) => `${t.wall.toFixed(0)} ms wall, ${t.cpu.toFixed(0)} ms CPU`;

async function run(label) {
  const times = {};
  let stop = clock();
  const c = await loadCommitment(commit, getBlob);
  times.commitment = stop();
  stop = clock();
  const v = await loadRandomness(c, randomness);
  times.beacon = stop();
  stop = clock();
  const o = await computeDraw(c, v);
  times.draw = stop();
  stop = clock();
  const ref = await blobRef(encodeCanonical(outcomeDocument(o)));
  times.outcome = stop();
  const total = Object.values(times).reduce((a, b) => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu }), { wall: 0, cpu: 0 });
  console.log(`[${label}] commitment checks (labels, Merkle root of ${N} labels, strata blobs): ${fmt(times.commitment)}`);
  console.log(`[${label}] drand BLS verification: ${fmt(times.beacon)}`);
  console.log(`[${label}] seed, ${N} tickets, selection of ${o.selected.length}, ${o.teams.length} teams: ${fmt(times.draw)}`);
  console.log(`[${label}] outcome document and its address: ${fmt(times.outcome)}  (${ref.slice(0, 23)}…)`);
  console.log(`[${label}] TOTAL re-verification of the draw: ${(total.wall / 1000).toFixed(2)} s wall, ${(total.cpu / 1000).toFixed(2)} s CPU`);
  return ref;
}

const refs = [];
for (const be of ['auto', 'noble']) {
  setHashBackend(be);
  refs.push(await run(`hash backend ${hashBackend()}`));
}
if (refs[0] !== refs[1]) throw new Error('backends disagree');
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// The sample ledger (data/ledger/, when present): verifyTask for every locked task, as the 验证 page
// does, the first one with the ledger-wide checks and the others from the page cache.
{
  const { existsSync, readFileSync: rf } = await import('node:fs');
  const { verifyTask } = await import('../theme/static/js/verify/site.js');
  const { readTree } = await import('../theme/static/js/verify/tiles.js');
  const { parseNote } = await import('../theme/static/js/verify/note.js');
  const { parseCheckpoint } = await import('../theme/static/js/verify/checkpoint.js');
  const dir = new URL('../data/ledger/', import.meta.url).pathname;
  if (existsSync(dir + 'checkpoint')) {
    setHashBackend('auto');
    const read = async (rel) => new Uint8Array(rf(dir + rel));
    const cp = parseCheckpoint(parseNote(await read('checkpoint')).text);
    const { entries } = await readTree(read, cp.size, cp.root);
    const all = entries.map((r) => JSON.parse(new TextDecoder().decode(r)));
    const tasks = [...new Set(all.filter((e) => e.type === 'draw.lock').map((e) => e.body.task))];
    const host = async (url) => {
      const f = dir + url.replace('https://sample.example/', '');
      return existsSync(f) ? { ok: true, status: 200, arrayBuffer: async () => Uint8Array.from(rf(f)).buffer } : { ok: false, status: 404 };
    };
    const cache = {};
    let stop = clock();
    const first = await verifyTask('https://sample.example/', tasks[0], { fetch: host, logKey: all[0].body.log_key, allowTestChain: true, cache });
    const t1 = stop();
    stop = clock();
    let okCount = first.ok ? 1 : 0;
    for (const t of tasks.slice(1)) okCount += (await verifyTask('https://sample.example/', t, { fetch: host, logKey: all[0].body.log_key, allowTestChain: true, cache })).ok ? 1 : 0;
    const t2 = stop();
    console.log(`[sample ledger] ${cp.size} entries: first task (whole ledger + draw) ${fmt(t1)}; ${tasks.length - 1} more tasks from the cache ${fmt(t2)}; ${okCount}/${tasks.length} ok`);
  }
}
