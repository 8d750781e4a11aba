// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text of a log's signed tree head.
//
//   <origin>\n                  non-empty, no control characters
//   <tree size>\n               ASCII decimal, no leading zeros ("0" for the empty tree)
//   <root hash>\n               standard padded base64 of the 32-byte RFC 6962 root
//   [<extension line>\n]...     optional, each non-empty
//
// parseCheckpoint takes the note text (openNote(...).text) and rejects any other spelling.
import { fromBase64, toBase64 } from './bytes.js';
import { FormatError } from './errors.js';

export function parseCheckpoint(text) {
  const bad = (why) => new FormatError(`checkpoint: ${why}`);
  if (typeof text !== 'string' || !text.endsWith('\n')) throw bad('expected text ending in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad(`expected at least 3 lines (origin, tree size, root hash), got ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === '') throw bad('expected a non-empty origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw bad(`line 2: expected the tree size in decimal without leading zeros, got ${JSON.stringify(sizeText)}`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw bad(`line 2: tree size ${sizeText} is larger than this verifier supports (2^53-1)`);
  let root;
  try {
    root = fromBase64(rootText, 'root hash');
  } catch {
    throw bad(`line 3: expected the root hash in base64, got ${JSON.stringify(rootText.slice(0, 60))}`);
  }
  if (root.length !== 32) throw bad(`line 3: expected a 32-byte root hash, got ${root.length} bytes`);
  extensions.forEach((e, i) => { if (e === '') throw bad(`line ${4 + i}: expected a non-empty extension line`); });
  return { origin, size, root, extensions };
}

export function formatCheckpoint({ origin, size, root, extensions = [] }) {
  return [origin, String(size), toBase64(root), ...extensions].join('\n') + '\n';
}
