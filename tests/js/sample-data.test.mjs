// The sample jurisdiction's own ledger (data/ledger/, written by `sunshine demo-data` and the ceremony):
// every task with a locked draw verifies in the JS verifier. Skipped while data/ledger/ does not exist.
// The sample names real drand quicknet rounds or department contributions only, never the test chain, so
// allowTestChain stays off (as on the portal's 验证 page); the log key is taken from the genesis entry, as
// the portal's keys.json does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { verifyTask } from '../../theme/static/js/verify/site.js';
import { parseNote } from '../../theme/static/js/verify/note.js';
import { parseCheckpoint } from '../../theme/static/js/verify/checkpoint.js';
import { readTree } from '../../theme/static/js/verify/tiles.js';
import { decodeCanonical } from '../../theme/static/js/verify/canonical.js';

const DIR = new URL('../../data/ledger/', import.meta.url).pathname;
const skip = !existsSync(path.join(DIR, 'checkpoint')) && 'no data/ledger/ yet';

test('every locked draw of the sample ledger verifies', { skip, timeout: 120000 }, async () => {
  const read = async (rel) => new Uint8Array(readFileSync(path.join(DIR, rel)));
  const cp = parseCheckpoint(parseNote(await read('checkpoint')).text);
  const { entries } = await readTree(read, cp.size, cp.root);
  const all = entries.map((raw) => decodeCanonical(raw));
  const logKey = all[0].body.log_key;
  const tasks = [...new Set(all.filter((e) => e.type === 'draw.lock').map((e) => e.body.task))];
  const host = async (url) => {
    const rel = url.replace('https://sample.example/ledger/log/', '');
    const file = path.join(DIR, rel);
    if (!url.startsWith('https://sample.example/ledger/log/') || !existsSync(file)) return { ok: false, status: 404 };
    return { ok: true, status: 200, arrayBuffer: async () => Uint8Array.from(readFileSync(file)).buffer };
  };
  const cache = {}; // the ledger-wide checks once, then each task's draw
  for (const task of tasks) {
    const r = await verifyTask('https://sample.example/ledger/log/', task, { fetch: host, logKey, cache });
    const bad = r.steps.find((s) => s.ok === false);
    assert.equal(bad, undefined, `task ${task}: ${bad && bad.detail_zh} (${bad && bad.detail})`);
  }
});
