// The vendored @noble files are exactly the npm-published files, except for the documented rewrite of
// "@noble/hashes/<f>" import specifiers to relative paths (theme/static/js/vendor/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const vendor = new URL('../../theme/static/js/vendor/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('MANIFEST.json', vendor), 'utf8'));
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

test('every vendored file matches MANIFEST.json and, with the rewrite undone, the npm original', () => {
  assert.ok(manifest.files.length >= 20);
  for (const f of manifest.files) {
    const bytes = readFileSync(new URL(f.path, vendor));
    assert.equal(sha256(bytes), f.sha256, `${f.path}: vendored bytes changed`);
    const undone = bytes.toString('latin1').replace(/from (["'])(?:\.\.\/)+noble-hashes\//g, 'from $1@noble/hashes/');
    assert.equal(sha256(Buffer.from(undone, 'latin1')), f.upstream_sha256, `${f.path}: differs from ${f.upstream}`);
  }
});

test('no vendored module imports by bare package name (browsers cannot resolve it)', () => {
  for (const f of manifest.files.filter((f) => f.path.endsWith('.js'))) {
    const src = readFileSync(new URL(f.path, vendor), 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/gm)) {
      assert.ok(m[1].startsWith('./') || m[1].startsWith('../'), `${f.path} imports ${m[1]}`);
    }
  }
});
