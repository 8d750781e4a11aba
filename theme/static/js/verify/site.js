// Verifying a published site: the ledger's files fetched by relative URL, then one task's draw.
//
// Layout (generator/sunshine/portal/ledger_view.py): the C2SP tlog-tiles directory of the ledger is
// published at <site>/ledger/log/ (checkpoint, tile/…, blob/sha256/…) and the key summary at
// <site>/ledger/keys.json, whose "log_key" is the log's signed-note verifier key.
//
//   verifyTask(logUrl, taskId, options) -> {ok, task, steps: [{id, label_zh, ok, detail_zh, detail}], warnings}
//
// Steps run in order and stop at the first that does not hold; later steps are returned with ok: null.
import { openNote, parseVerifierKey, verifyCosignatures, ALG_COSIGNATURE_V1 } from './note.js';
import { parseCheckpoint } from './checkpoint.js';
import { readTree, tileNodeReader } from './tiles.js';
import { inclusionProofFromNodes, verifyInclusion, rootFromLeafHashes } from './merkle.js';
import { parseEntry, LedgerState, ENTRY_TYPES, entryTimeSeconds } from './entries.js';
import { chainByHash, roundTime, parseBeacon, verifyBeacon } from './beacon.js';
import { recompute, compareWithLock, replayReplacements, bodyHash, explainTarget, loadCommitment, loadRandomness, checkSealedOutcome, DrawError } from './draw.js';
import { toHex } from './bytes.js';
import { FormatError, IntegrityError, VerifyError } from './errors.js';

/** The file could not be fetched (network, HTTP status). */
export class FetchError extends VerifyError {}

/**
 * fetchBytes(relativePath) over `baseUrl` with the given fetch function (default: globalThis.fetch).
 * Relative URLs only: the site works from any path and any static host.
 */
export function makeFetcher(baseUrl, fetchFn = globalThis.fetch) {
  const base = String(baseUrl).endsWith('/') ? String(baseUrl) : String(baseUrl) + '/';
  return (rel) => fetchUrl(new URL(rel, base).href, rel, fetchFn);
}

async function fetchUrl(url, name, fetchFn) {
  let res;
  try {
    res = await fetchFn(url, { cache: 'no-cache' });
  } catch (e) {
    throw new FetchError(`${name}: cannot be fetched (${e.message})`);
  }
  if (!res.ok) throw new FetchError(`${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const LABELS = {
  key: '账本公钥',
  checkpoint: '检查点签名',
  tree: '账本数据与默克尔树',
  history: '与上次看到的账本一致',
  chain: '哈希链与每条记录的签名',
  signers: '签名人资格',
  witness: '见证方签名',
  task: '摇号流程记录',
  inclusion: '任务记录的收录证明',
  beacon: '公共随机数（drand 信标）',
  draw: '重新计算抽取结果',
  replacements: '替换记录（检查对象、检查人员）',
};
const ORDER = Object.keys(LABELS);

/** Plain-Chinese explanation of an error, by class and message. */
function zh(e) {
  const m = e && e.message ? e.message : String(e);
  if (e instanceof FetchError) return `无法下载所需文件（${m.split(':')[0]}）。请检查网络或网站是否完整发布了账本文件。`;
  if (/signature by .* does not verify/.test(m)) return `第 ${(/entry (\d+)/.exec(m) || [])[1]} 条记录的签名无法验证：记录内容在签名后被改动过，或签名密钥不符。`;
  if (/hash chain broken/.test(m)) return `哈希链在第 ${(/entry (\d+)/.exec(m) || [])[1]} 条记录处断开：之前的记录被改动、删除或插入过。`;
  if (/not a registered key/.test(m)) return `第 ${(/entry (\d+)/.exec(m) || [])[1]} 条记录由一个未登记的密钥签名。`;
  if (/invalid cosignature for witness key/.test(m)) return `见证方 ${(/witness key (\S+?)\+/.exec(m) || [])[1]} 的签名无法验证：见证记录被改动过。`;
  if (/do not hash to the checkpoint's root/.test(m)) return '账本记录与已签名检查点的默克尔树根不一致：记录在签名后被改动过。';
  if (/^tile\//.test(m)) return `数据瓦片 ${m.split(':')[0]} 与账本记录不一致。`;
  if (e instanceof IntegrityError) return `数据不一致，可能被篡改：${m}`;
  if (e instanceof FormatError) return `文件格式不正确：${m}`;
  if (e instanceof DrawError) return `抽取无法按承诺重算：${m}`;
  return `验证时出错：${m}`;
}

/**
 * Verify one task of a published ledger in the browser (or node).
 *
 * logUrl      URL of the published ledger directory (…/ledger/log/), absolute or relative to the page
 * taskId      the task id, e.g. "2025-01"
 * options     logKey          pinned verifier key of the log (name+hash+base64); default: "log_key" of
 *                             keysUrl, and the genesis entry must name the same key
 *             keysUrl         default: "../keys.json" relative to logUrl
 *             allowTestChain  accept the project's test drand chain (fictional sample data only)
 *             previousCheckpoint  the signed checkpoint (text) this browser accepted last time for this
 *                             log (e.g. kept in localStorage): the log must have only grown since
 *                             (same root for the old size); a different history is a fork
 *             fetch           fetch function (default globalThis.fetch)
 *             cache           an object kept between calls (e.g. one per page): when the checkpoint, the
 *                             URL and the key are unchanged, the ledger-wide checks (tree, chain,
 *                             signatures) are not repeated for the next task
 *             onStep          callback(step) as each step finishes (for a progress display)
 *             opening         the opening file of a task with sealed strata (oversight bodies only):
 *                             the draw is then recomputed in full
 *             target          a pool label (e.g. an enterprise's USCC): the result then has
 *                             `target: {stratum, ticket, rank, size, sample, cutoff, selected}` (public strata)
 */
export async function verifyTask(logUrl, taskId, options = {}) {
  let base = null;
  let baseError = null;
  try {
    base = new URL(String(logUrl).endsWith('/') ? String(logUrl) : String(logUrl) + '/', globalThis.location ? globalThis.location.href : undefined).href;
  } catch (e) {
    baseError = e;
  }
  const fetchBytes = base ? makeFetcher(base, options.fetch || globalThis.fetch) : null;
  const steps = [];
  const warnings = [];
  const ctx = {};
  let failed = false;
  const run = async (id, fn) => {
    if (failed) return;
    const step = { id, label_zh: LABELS[id], ok: true, detail_zh: '', detail: '' };
    try {
      const r = await fn();
      if (r === null) { step.ok = null; } else if (r) { step.detail_zh = r.zh || ''; step.detail = r.en || ''; if (r.ok === null) step.ok = null; }
    } catch (e) {
      step.ok = false;
      step.detail_zh = e.zh || zh(e);
      step.detail = e.message || String(e);
      failed = true;
    }
    steps.push(step);
    if (options.onStep) options.onStep(step);
  };
  const fail = (zhText, en) => { const e = new IntegrityError(en || zhText); e.zh = zhText; return e; };

  await run('key', async () => {
    if (baseError) throw fail(`账本地址无效：${JSON.stringify(String(logUrl))}`, `invalid ledger URL ${logUrl}: ${baseError.message}`);
    let vkey = options.logKey;
    let source = '由调用方固定';
    if (!vkey) {
      const keysUrl = new URL(options.keysUrl || '../keys.json', base).href;
      let keys;
      const bytes = await fetchUrl(keysUrl, 'keys.json', options.fetch || globalThis.fetch);
      try { keys = JSON.parse(new TextDecoder().decode(bytes)); } catch (e) { throw new FormatError(`keys.json: expected JSON (${e.message})`); }
      vkey = keys && keys.log_key;
      source = '取自网站公布的 keys.json';
    }
    ctx.logKey = await parseVerifierKey(vkey);
    return { zh: `账本公钥 ${ctx.logKey.name}（${source}）`, en: vkey };
  });

  await run('checkpoint', async () => {
    ctx.checkpointBytes = await fetchBytes('checkpoint');
    let n;
    try {
      n = await openNote(ctx.checkpointBytes, [ctx.logKey]);
    } catch (e) {
      throw fail('检查点的签名无法用公布的账本公钥验证：检查点可能被篡改，或公钥不是本账本的。', e.message);
    }
    ctx.cp = parseCheckpoint(n.text);
    if (ctx.cp.origin !== ctx.logKey.name) warnings.push(`检查点来源 ${ctx.cp.origin} 与公钥名称 ${ctx.logKey.name} 不同`);
    return { zh: `账本 ${ctx.cp.origin} 共 ${ctx.cp.size} 条记录，树根 ${toHex(ctx.cp.root).slice(0, 16)}…`, en: n.text };
  });

  const cacheKey = () => `${base}\n${toHex(ctx.checkpointBytes)}\n${ctx.logKey.vkey}`;
  const cached = () => options.cache && ctx.checkpointBytes && options.cache.key === cacheKey() ? options.cache : null;

  await run('tree', async () => {
    const c = cached();
    if (c) {
      Object.assign(ctx, { raws: c.raws, leafHashes: c.leafHashes });
      return { zh: `全部 ${c.raws.length} 条记录和 ${c.tilesChecked} 个数据瓦片与检查点一致（本页已核对过同一检查点）`, en: 'cached' };
    }
    const t = await readTree(fetchBytes, ctx.cp.size, ctx.cp.root);
    ctx.tilesChecked = t.tilesChecked;
    ctx.raws = t.entries;
    ctx.leafHashes = t.leafHashes;
    return { zh: `全部 ${t.entries.length} 条记录和 ${t.tilesChecked} 个数据瓦片与检查点一致`, en: `${t.tilesChecked} tiles checked` };
  });

  await run('history', async () => {
    if (!options.previousCheckpoint) return { zh: '没有上次保存的检查点可比较', ok: null };
    const prevBytes = typeof options.previousCheckpoint === 'string' ? new TextEncoder().encode(options.previousCheckpoint) : options.previousCheckpoint;
    let prev;
    try {
      prev = parseCheckpoint((await openNote(prevBytes, [ctx.logKey])).text);
    } catch (e) {
      throw fail('上次保存的检查点无法用账本公钥验证，无法比较。', e.message);
    }
    if (prev.origin !== ctx.cp.origin) throw fail(`上次保存的检查点属于另一个账本（${prev.origin}）。`, 'origin differs');
    if (prev.size > ctx.cp.size) {
      throw fail(`账本变短了：上次看到 ${prev.size} 条记录，现在只有 ${ctx.cp.size} 条。已公布的记录被删除过。`, `tree shrank from ${prev.size} to ${ctx.cp.size}`);
    }
    const oldRoot = await rootFromLeafHashes(ctx.leafHashes.slice(0, prev.size));
    if (toHex(oldRoot) !== toHex(prev.root)) {
      throw fail(`现在账本的前 ${prev.size} 条记录与上次看到的不同：账本历史被改写过，或者不同的人看到了不同的账本（分叉）。`,
        `root of the first ${prev.size} entries is ${toHex(oldRoot)}, previously ${toHex(prev.root)}`);
    }
    return { zh: `上次看到 ${prev.size} 条记录，现在 ${ctx.cp.size} 条；此前的记录没有任何改动`, en: '' };
  });

  await run('chain', async () => {
    const c = cached();
    if (c) {
      Object.assign(ctx, { entries: c.entries, state: c.state });
      return { zh: `${c.entries.length} 条记录环环相扣，签名全部有效（本页已核对过同一检查点）`, en: 'cached' };
    }
    const state = new LedgerState(ctx.cp.origin);
    ctx.entries = [];
    for (let i = 0; i < ctx.raws.length; i++) {
      const e = await parseEntry(ctx.raws[i], `entry ${i}`);
      await state.apply(e, { defer: true });
      ctx.entries.push(e);
    }
    await state.verifyPending();
    if (state.logKey !== ctx.logKey.vkey) {
      throw fail(`账本首条记录登记的账本公钥（${state.logKey}）与网站公布的公钥不同。`, `genesis log_key ${state.logKey} differs from ${ctx.logKey.vkey}`);
    }
    ctx.state = state;
    if (options.cache) {
      Object.assign(options.cache, { key: cacheKey(), raws: ctx.raws, leafHashes: ctx.leafHashes, tilesChecked: ctx.tilesChecked, entries: ctx.entries, state });
    }
    return { zh: `${ctx.entries.length} 条记录环环相扣，签名全部有效`, en: '' };
  });

  await run('signers', async () => {
    const taskSeqs = new Set(ctx.entries.filter((e) => e.type.startsWith('draw.') && e.body.task === taskId).map((e) => e.seq));
    const own = ctx.state.findings.filter((f) => taskSeqs.has(f.seq));
    for (const f of ctx.state.findings.filter((x) => !taskSeqs.has(x.seq))) warnings.push(`第 ${f.seq} 条记录：${f.message}`);
    if (own.length) throw fail(`本任务的记录有签名人不符合规则的情况（第 ${own[0].seq} 条）：${own[0].message}`, own.map((f) => `entry ${f.seq}: ${f.message}`).join('; '));
    return { zh: '本任务的每条记录都由有权签署的部门密钥签名', en: '' };
  });

  await run('witness', async () => {
    const { keyId } = await import('./note.js');
    const witnesses = [];
    for (const k of ctx.state.keys.values()) {
      if (k.role !== 'witness') continue;
      witnesses.push({ name: k.name, alg: ALG_COSIGNATURE_V1, publicKey: k.publicKey, keyId: await keyId(k.name, ALG_COSIGNATURE_V1, k.publicKey) });
    }
    if (!witnesses.length) return { zh: '账本未登记见证方', ok: null };
    const seen = [];
    // Cosignatures on the current checkpoint file, if the log publishes them there.
    for (const g of await verifyCosignatures(ctx.checkpointBytes, witnesses)) seen.push(`${g.name}（当前检查点）`);
    // Cosignatures recorded in checkpoint.witness entries: each cosigned checkpoint must be a checkpoint
    // of this very log (the same root for its size): witnesses saw the same history as this visitor.
    for (const e of ctx.entries.filter((x) => x.type === 'checkpoint.witness')) {
      const text = String(e.body.checkpoint);
      const lines = Array.isArray(e.body.cosignatures) ? e.body.cosignatures.map(String) : [];
      const note = new TextEncoder().encode(text + '\n' + lines.join('\n') + '\n');
      const wcp = parseCheckpoint(text);
      const root = await rootFromLeafHashes(ctx.leafHashes.slice(0, wcp.size));
      if (wcp.origin !== ctx.cp.origin || wcp.size > e.seq || toHex(root) !== toHex(wcp.root)) {
        throw fail(`第 ${e.seq} 条见证记录所签的检查点（${wcp.size} 条记录）与本账本的历史不一致：见证方看到的是另一个账本。`,
          `checkpoint.witness ${e.seq}: cosigned checkpoint of size ${wcp.size} is not a checkpoint of this log before this entry`);
      }
      const got = await verifyCosignatures(note, witnesses);
      if (!got.length) warnings.push(`第 ${e.seq} 条见证记录中没有已登记见证方的签名`);
      for (const g of got) seen.push(`${g.name}（第 ${wcp.size} 条时）`);
    }
    if (!seen.length) return { zh: '尚无见证方签名', ok: null };
    return { zh: `见证方签名有效：${seen.join('、')}`, en: '' };
  });

  await run('task', async () => {
    const mine = ctx.entries.filter((e) => e.type.startsWith('draw.') && e.body.task === taskId);
    if (!mine.length) throw fail(`账本中没有任务 ${taskId} 的摇号记录。`, `no draw entries for task ${taskId}`);
    let state = 'planned';
    const t = { commit: null, randomness: null, lock: null, listReveal: null, commits: 0, replacements: [] };
    for (const e of mine) {
      const bad = (what) => fail(`第 ${e.seq} 条记录（${ENTRY_TYPES[e.type][1]}）出现在“${what}”之后，不符合“承诺→随机数→锁定”的顺序。`, `${e.type} in state ${state}`);
      if (e.type === 'draw.commit') {
        if (!['planned', 'voided'].includes(state)) throw fail(`任务在已有有效承诺时又登记了新的承诺（第 ${e.seq} 条），应先作废前一个承诺。`, `second commitment in state ${state}`);
        Object.assign(t, { commit: e, randomness: null, lock: null }); t.commits++; state = 'committed';
      } else if (e.type === 'draw.void') {
        if (state !== 'committed') throw fail(`第 ${e.seq} 条记录在随机数公布之后作废承诺，这相当于重新摇号。`, `void in state ${state}`);
        state = 'voided';
      } else if (e.type === 'draw.randomness') {
        if (state !== 'committed') throw bad(state);
        t.randomness = e; state = 'randomness';
      } else if (e.type === 'draw.lock') {
        if (state !== 'randomness') throw bad(state);
        t.lock = e; state = 'locked';
      } else if (e.type === 'draw.dispatch') {
        if (state !== 'locked') throw bad(state);
        state = 'dispatched';
      } else if (e.type === 'draw.list_reveal') {
        if (!['locked', 'dispatched'].includes(state)) throw bad(state);
        t.listReveal = e;
      } else if (['draw.replace_target', 'draw.replace_inspector'].includes(e.type)) {
        if (!['locked', 'dispatched'].includes(state)) throw bad(state);
        t.replacements.push(e);
      }
    }
    if (!t.commit) throw fail(`任务 ${taskId} 没有有效的摇号承诺。`, 'no live commitment');
    if (!t.randomness || !t.lock) {
      ctx.task = t;
      const d = t.commit.body.randomness ? t.commit.body.randomness.drand : undefined;
      ctx.chain = d && typeof d.chain === 'string' ? await chainByHash(d.chain) : null;
      return { zh: `已承诺（第 ${t.commit.seq} 条），尚未${t.randomness ? '锁定结果' : '公布随机数'}`, ok: null };
    }
    // The pool must be fixed before the randomness exists.
    const drand = t.commit.body.randomness ? t.commit.body.randomness.drand : undefined;
    if (drand === null) { // docs/spec/draw.md §3.5: no public beacon, department contributions only
      ctx.task = t;
      ctx.chain = null;
      warnings.push('本任务未使用 drand 公共随机数，随机性仅来自各部门事先承诺的随机数贡献');
      return { zh: `承诺第 ${t.commit.seq} 条 → 随机数第 ${t.randomness.seq} 条 → 锁定第 ${t.lock.seq} 条（仅部门随机数贡献，无公共信标）`, en: '' };
    }
    if (!drand || !Number.isSafeInteger(drand.round)) throw fail('摇号承诺没有写明所用的 drand 轮次。', 'commit without randomness.drand.round');
    const chain = await chainByHash(drand.chain);
    const rt = roundTime(chain, drand.round);
    if (entryTimeSeconds(t.commit.time) >= rt) {
      throw fail(`摇号承诺的记账时间（${t.commit.time}）不早于所用随机数（第 ${drand.round} 轮）的产生时间（${new Date(rt * 1000).toISOString().replace('.000', '')}），无法排除先看到随机数再确定名单。`,
        `commit time ${t.commit.time} is not before round ${drand.round} time`);
    }
    if (entryTimeSeconds(t.randomness.time) < rt) {
      throw fail(`随机数记录的时间（${t.randomness.time}）早于该轮随机数的产生时间，时间记录不可信。`, 'randomness entry dated before its round');
    }
    ctx.task = t;
    ctx.chain = chain;
    return { zh: `承诺第 ${t.commit.seq} 条（${t.commit.time}）→ 随机数第 ${t.randomness.seq} 条 → 锁定第 ${t.lock.seq} 条；承诺早于第 ${drand.round} 轮随机数产生`, en: '' };
  });

  await run('inclusion', async () => {
    const node = tileNodeReader(fetchBytes, ctx.cp.size);
    const seqs = ctx.entries.filter((e) => e.type.startsWith('draw.') && e.body.task === taskId).map((e) => e.seq);
    for (const s of seqs) {
      const proof = await inclusionProofFromNodes(ctx.cp.size, s, node);
      await verifyInclusion(s, ctx.cp.size, ctx.leafHashes[s], proof, ctx.cp.root);
    }
    return { zh: `本任务的 ${seqs.length} 条记录均可由检查点树根证明收录（第 ${seqs.join('、')} 条）`, en: '' };
  });

  await run('beacon', async () => {
    const t = ctx.task;
    if (!t.randomness) return null;
    if (ctx.chain === null) return { zh: '本任务未使用 drand 信标（见上）', ok: null };
    if (ctx.chain.testOnly && !options.allowTestChain) {
      throw fail('本任务使用的是测试用随机数链（其私钥是公开的），不是真实的 drand 随机数。', 'test chain beacon refused');
    }
    if (ctx.chain.testOnly) warnings.push('示例数据：本任务使用测试用随机数链，不是真实的 drand 随机数');
    const drand = t.randomness.body.drand || {};
    const b = await parseBeacon(String(drand.beacon), 'draw.randomness.drand.beacon');
    try {
      await verifyBeacon(b, ctx.chain, { expectedRound: t.commit.body.randomness.drand.round, allowTestChain: options.allowTestChain });
    } catch (e) {
      throw fail(`第 ${b.round} 轮随机数信标的签名无法用 ${ctx.chain.name} 的公钥验证：随机数不是 drand 产生的。`, e.message);
    }
    return { zh: `drand ${ctx.chain.name} 第 ${b.round} 轮，BLS 签名有效，随机数 ${toHex(b.randomness).slice(0, 16)}…`, en: drand.beacon };
  });

  await run('draw', async () => {
    const t = ctx.task;
    if (!t.lock) return null;
    if (t.commit.body.notice === 'no_notice' && !t.listReveal) return { zh: '不宜告知的任务：名单在检查后公布，届时即可重算', ok: null };
    if (t.listReveal) {
      if (t.listReveal.body.lock !== (await bodyHash(t.lock.body)) || t.listReveal.body.outcome !== t.lock.body.outcome) {
        throw fail('公布的抽查名单与此前锁定的结果不是同一份（锁定记录或结果地址不符）。', 'list_reveal does not match the lock');
      }
    }
    const getBlob = (ref) => fetchBytes(`blob/sha256/${ref.slice(7)}`);
    const listReveal = t.listReveal ? t.listReveal.body : undefined;
    if (t.commit.body.sealed !== undefined && !options.opening) {
      // Sealed strata (credit classes, docs/spec/draw.md §8): what the public can check without the opening file.
      const c = await loadCommitment(t.commit.body, getBlob);
      const values = await loadRandomness(c, t.randomness.body, { listReveal, allowTestChain: options.allowTestChain });
      const { diffs, selected } = await checkSealedOutcome(c, values, t.lock.body, getBlob);
      if (diffs.length) throw fail(`按公开的承诺和随机数核对，锁定记录不成立：${diffs.join('；')}`, diffs.join('; '));
      ctx.sealed = true;
      warnings.push('本任务按信用风险分类分层，分层名单已封存：公众可核对种子、各层抽取数与分界、每个入选对象的签值和检查组；逐户分层由监督机构凭开启文件核对');
      return { zh: `分层已封存：种子、各层抽取数与入选分界、${selected.length} 个入选对象的签值和检查组均已核对（逐户分层需开启文件）`, en: '' };
    }
    const o = await recompute(t.commit.body, t.randomness.body, getBlob, {
      listReveal, opening: options.opening, allowTestChain: options.allowTestChain,
    });
    const diffs = await compareWithLock(o, t.lock.body, getBlob, { commitBody: t.commit.body, randomnessBody: t.randomness.body });
    if (diffs.length) throw fail(`按公开的承诺和随机数重新计算，结果与锁定记录不一致：${diffs.join('；')}`, diffs.join('; '));
    ctx.outcome = o;
    const strata = o.strata.map((s) => `${s.id} ${s.sample}/${s.size}`).join('，');
    return { zh: `${o.sealed ? '凭开启文件完整重算，' : ''}重算结果与锁定记录完全一致：抽中 ${o.selected.length} 户（${strata}）`, en: '' };
  });

  await run('replacements', async () => {
    const t = ctx.task;
    if (ctx.sealed && t.replacements.length) return { zh: '分层已封存：替换所用的候补队列不公开，由监督机构凭开启文件核对', ok: null };
    if (!ctx.outcome) return null;
    if (!t.replacements.length) return { zh: '没有替换记录', ok: null };
    const problems = await replayReplacements(ctx.outcome, t.lock.body, t.replacements.map((e) => ({ type: e.type, body: e.body })));
    if (problems.length) {
      const p = problems[0];
      throw fail(`第 ${t.replacements[p.index].seq} 条替换记录不符合规定：${p.zh}`, problems.map((x) => `entry ${t.replacements[x.index].seq}: ${x.en}`).join('; '));
    }
    return { zh: `${t.replacements.length} 条替换记录都按候补队列或排序取了下一位，理由和批准人符合规定`, en: '' };
  });

  for (const id of ORDER) {
    if (!steps.some((s) => s.id === id)) steps.push({ id, label_zh: LABELS[id], ok: null, detail_zh: '未执行（前一步未通过）', detail: '' });
  }
  const ok = !steps.some((s) => s.ok === false) && steps.find((s) => s.id === 'draw').ok === true;
  // (for sealed strata `ok` means: everything the public can check holds; see the warning)
  // The checkpoint to remember for next time (previousCheckpoint): only once the tree and its history hold.
  const held = (id) => steps.find((s) => s.id === id).ok;
  const checkpoint = held('tree') === true && held('history') !== false ? new TextDecoder().decode(ctx.checkpointBytes) : null;
  const target = options.target && ctx.outcome && !ctx.outcome.sealed ? explainTarget(ctx.outcome, options.target) : null;
  // status: 'ok' (verified), 'failed' (something does not hold: see the step with ok false) or
  // 'incomplete' (nothing failed, but the draw cannot be checked yet: not locked, or a no-notice list not
  // yet revealed)
  const status = ok ? 'ok' : steps.some((x) => x.ok === false) ? 'failed' : 'incomplete';
  return { ok, status, task: taskId, steps, warnings, checkpoint, outcome: ctx.outcome ? summarize(ctx.outcome) : null, target };
}

function summarize(o) {
  return {
    seed: toHex(o.seed),
    selected: [...o.selected],
    strata: o.strata.map((s) => ({ id: s.id, size: s.size, sample: s.sample, cutoff: s.cutoff })),
    teams: o.teams.map((t) => ({ target: t.target, leader: t.leader, officers: [...t.officers], experts: [...t.experts] })),
  };
}
