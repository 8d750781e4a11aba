// Benchmark: re-verify a draw over a 100,000-member pool with the in-browser verifier's code (node).
// Prints the time of each phase. Run:  node bench/bench_js_verify.mjs [pool size]
//
// The inputs are synthetic (fictional labels, two strata, 120 officers) but the randomness is the real
// drand quicknet round 32000000 recorded in tests/vectors/drand/, so the BLS verification is real.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setHashBackend, hashBackend } from '../theme/static/js/verify/hash.js';
import { buildInputs, reverify } from './js_draw_bench.mjs';

const N = Number(process.argv[2] || 100000);
const beaconText = readFileSync(new URL('../tests/vectors/drand/quicknet-32000000.json', import.meta.url), 'utf8').trim();

let t = performance.now();
const inputs = await buildInputs(N, beaconText);
console.log(`inputs built (pool ${N}, ${inputs.sizes.join(' + ')}): ${(performance.now() - t).toFixed(0)} ms (not part of verification)`);

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
  const { times, total, ref, selected, teams } = await reverify(inputs, clock);
  console.log(`[${label}] commitment checks (labels, Merkle root of ${N} labels, strata blobs): ${fmt(times.commitment)}`);
  console.log(`[${label}] drand BLS verification: ${fmt(times.beacon)}`);
  console.log(`[${label}] seed, ${N} tickets, selection of ${selected}, ${teams} teams: ${fmt(times.draw)}`);
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
    const first = await verifyTask('https://sample.example/', tasks[0], { fetch: host, logKey: all[0].body.log_key, cache });
    const t1 = stop();
    stop = clock();
    let okCount = first.ok ? 1 : 0;
    for (const t of tasks.slice(1)) okCount += (await verifyTask('https://sample.example/', t, { fetch: host, logKey: all[0].body.log_key, cache })).ok ? 1 : 0;
    const t2 = stop();
    console.log(`[sample ledger] ${cp.size} entries: first task (whole ledger + draw) ${fmt(t1)}; ${tasks.length - 1} more tasks from the cache ${fmt(t2)}; ${okCount}/${tasks.length} ok`);
  }
}
