// The synthetic 100,000-member draw of the JS verifier's benchmark, shared by node (bench_js_verify.mjs)
// and headless Chromium (bench_js_verify_browser.py). Web-standard APIs only, so it runs in both.
//
// The inputs are fictional (labels, two strata, 120 officers), the randomness is the real drand quicknet
// round 32000000 (tests/vectors/drand/quicknet-32000000.json, passed in as text), so the BLS check is real.
import { loadCommitment, loadRandomness, computeDraw, outcomeDocument, blobRef, poolRoot, sampleSize, parseRatio, bodyHash } from '../theme/static/js/verify/draw.js';
import { QUICKNET, ALGORITHM } from '../theme/static/js/verify/beacon.js';
import { encodeCanonical } from '../theme/static/js/verify/canonical.js';
import { utf8 } from '../theme/static/js/verify/bytes.js';

/** The commitment and randomness bodies of the benchmark draw over `n` members, with their blobs. */
export async function buildInputs(n, beaconText) {
  const blobs = new Map();
  const put = async (bytes) => { const ref = await blobRef(bytes); blobs.set(ref, bytes); return ref; };
  const labelsBlob = (ls) => utf8(ls.length ? '["' + ls.join('","') + '"]' : '[]');
  const labels = Array.from({ length: n }, (_, i) => `91379900MA${String(i).padStart(7, '0')}X`);
  const strata = [
    { id: 'abnormal', label: '经营异常', ratio: '1/10', minimum: 0, members: labels.filter((_, i) => i % 20 === 7) },
    { id: 'rest', label: '其他', ratio: '3/100', minimum: 1, members: labels.filter((_, i) => i % 20 !== 7) },
  ];
  const inspectors = Array.from({ length: 120 }, (_, i) => ({
    capacity: 60, conflicts: [], department: 'amr', id: `AMR-${String(i).padStart(3, '0')}`, kind: 'officer', qualifications: ['food'],
  }));
  const commit = {
    algorithm: ALGORITHM, task: 'bench-01', year: 2026, items: ['AMR-03'], lead: 'amr', participants: [], notice: 'notified',
    draw_date: '2026-09-07',
    pool: { size: n, labels: await put(labelsBlob(labels)), root: await poolRoot(labels) },
    exclusions: { count: 0, list: await put(utf8('[]')) },
    cap_overrides: [],
    strata: [],
    inspectors: { count: inspectors.length, list: await put(encodeCanonical(inspectors)) },
    team: { experts: 0, min_officers: 2, per_department: 1, qualifications: ['food'] },
    randomness: { drand: { chain: QUICKNET.chainHash, public_key: QUICKNET.publicKey, round: 32000000 }, lotteries: [], contributions: [] },
  };
  for (const s of strata) {
    commit.strata.push({ id: s.id, label: s.label, ratio: s.ratio, minimum: s.minimum, size: s.members.length,
      sample: sampleSize(s.members.length, parseRatio(s.ratio, s.id), s.minimum), members: await put(labelsBlob(s.members)) });
  }
  const randomness = {
    algorithm: ALGORITHM, task: 'bench-01', commit: await bodyHash(commit), contributions: [], lotteries: [],
    drand: { beacon: beaconText, chain: QUICKNET.chainHash, round: 32000000 },
  };
  return { commit, randomness, getBlob: async (ref) => blobs.get(ref), sizes: strata.map((s) => s.members.length) };
}

/**
 * Re-verify the draw as the 验证 page does: commitment checks, beacon, seed/tickets/selection/teams, outcome
 * address. `clock()` returns a stopper giving {wall, cpu} in ms (cpu may be NaN where it cannot be measured).
 */
export async function reverify({ commit, randomness, getBlob }, clock) {
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
  return { times, total, ref, selected: o.selected.length, teams: o.teams.length };
}
