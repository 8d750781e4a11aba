// Ledger entries (docs/spec/ledger.md §6–§8; generator/sunshine/entries.py): the envelope, its signature,
// and the replay of the key registry and signer rules.
//
// An entry is the canonical JSON of an object with exactly the members body, prev, seq, sig, signer,
// time, type, v (1). `prev` is the hex SHA-256 of the previous entry's bytes (64 zeros for seq 0). `sig` is
// base64 Ed25519 over  "sunshine/ledger/entry/v1\n" || origin || "\n" || canonical(entry without sig).
// At most 16 KiB.
import { decodeCanonical, encodeCanonical } from './canonical.js';
import { sha256 } from './hash.js';
import { verifyEd25519 } from './ed25519.js';
import { parseVerifierKey, ALG_ED25519 } from './note.js';
import { utf8, toHex, fromBase64, concatBytes } from './bytes.js';
import { FormatError, IntegrityError } from './errors.js';

export const DOMAIN = 'sunshine/ledger/entry/v1\n';
export const MAX_ENTRY_SIZE = 16 * 1024;
export const ZERO_HASH = '0'.repeat(64);
const MEMBERS = ['body', 'prev', 'seq', 'sig', 'signer', 'time', 'type', 'v'];
const HEX64 = /^[0-9a-f]{64}$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}$/;
const B64_SIG = /^[A-Za-z0-9+/]{86}==$/;

/** Entry types with their signer rule and Chinese label (entries.py ENTRY_TYPES). */
export const ENTRY_TYPES = {
  genesis: ['log', '账本创建'],
  'key.register': ['root', '登记密钥'],
  'key.rotate': ['root', '更换密钥'],
  'key.revoke': ['root', '吊销密钥'],
  'items.publish': ['office', '公布抽查事项清单'],
  'plan.publish': ['office', '公布年度抽查计划'],
  'directory.snapshot': ['office', '名录库确认'],
  'draw.commit': ['lead', '摇号承诺'],
  'draw.randomness': ['lead', '公布随机数'],
  'draw.lock': ['lead', '锁定抽取结果'],
  'draw.list_reveal': ['lead', '公布抽查名单'],
  'draw.dispatch': ['lead', '派发任务'],
  'draw.replace_target': ['lead', '替换检查对象'],
  'draw.replace_inspector': ['task_department', '更换检查人员'],
  'draw.void': ['lead', '作废摇号承诺'],
  'result.publish': ['result_department', '公示检查结果'],
  'result.correct': ['result_head', '更正检查结果'],
  'checkpoint.witness': ['office', '见证签名'],
};

function realTime(t) {
  const m = TIME.exec(t);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

/** Unix seconds of an entry time "YYYY-MM-DDTHH:MM:SSZ". */
export function entryTimeSeconds(t) {
  return Date.parse(t) / 1000;
}

/**
 * Parse one entry strictly. Returns {seq, prev, time, type, signer, body, sig, raw, hash, unsigned}.
 * FormatError naming the entry and field. (Body schemas are checked where this verifier uses them.)
 */
export async function parseEntry(raw, where = 'entry') {
  if (raw.length > MAX_ENTRY_SIZE) throw new FormatError(`${where}: expected at most ${MAX_ENTRY_SIZE} bytes, got ${raw.length}`);
  const obj = decodeCanonical(raw, where);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FormatError(`${where}: expected a JSON object`);
  const keys = Object.keys(obj).sort();
  if (keys.join(',') !== MEMBERS.join(',')) {
    const missing = MEMBERS.filter((k) => !keys.includes(k));
    const extra = keys.filter((k) => !MEMBERS.includes(k));
    throw new FormatError(`${where}: expected exactly the members ${MEMBERS.join(', ')}${missing.length ? '; missing ' + missing.join(', ') : ''}${extra.length ? '; unexpected ' + extra.join(', ') : ''}`);
  }
  if (obj.v !== 1) throw new FormatError(`${where}.v: expected 1, got ${JSON.stringify(obj.v)}`);
  if (!Number.isSafeInteger(obj.seq) || obj.seq < 0) throw new FormatError(`${where}.seq: expected an integer >= 0, got ${JSON.stringify(obj.seq)}`);
  if (typeof obj.prev !== 'string' || !HEX64.test(obj.prev)) throw new FormatError(`${where}.prev: expected 64 lowercase hex digits, got ${JSON.stringify(obj.prev)}`);
  if (typeof obj.time !== 'string' || !realTime(obj.time)) throw new FormatError(`${where}.time: expected a time "YYYY-MM-DDTHH:MM:SSZ", got ${JSON.stringify(obj.time)}`);
  if (!(obj.type in ENTRY_TYPES)) throw new FormatError(`${where}.type: expected one of ${Object.keys(ENTRY_TYPES).join(', ')}, got ${JSON.stringify(obj.type)}`);
  if (typeof obj.signer !== 'string' || !NAME.test(obj.signer)) throw new FormatError(`${where}.signer: expected a key name, got ${JSON.stringify(obj.signer)}`);
  if (typeof obj.sig !== 'string' || !B64_SIG.test(obj.sig)) throw new FormatError(`${where}.sig: expected base64 of a 64-byte Ed25519 signature, got ${JSON.stringify(obj.sig)}`);
  const sig = fromBase64(obj.sig, `${where}.sig`);
  const body = obj.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new FormatError(`${where}.body: expected an object`);
  if (obj.type.startsWith('draw.') && (typeof body.task !== 'string' || body.task === '')) throw new FormatError(`${where}.body: expected member 'task'`);
  return {
    seq: obj.seq, prev: obj.prev, time: obj.time, type: obj.type, signer: obj.signer, body, sig,
    raw, hash: toHex(await sha256(raw)), unsigned: withoutSig(raw),
  };
}

const SIG_MEMBER = utf8(',"sig":"');

/**
 * The canonical encoding of the entry without `sig`, cut out of the canonical bytes (as entries.py
 * does): the members after `sig` (signer, time, type, v) are restricted to characters that cannot spell
 * `,"sig":"`, so its last occurrence is the top-level member. Equal to encodeCanonical of the object
 * without `sig` (tested).
 */
export function withoutSig(raw) {
  let i = raw.length - SIG_MEMBER.length;
  search: for (; i >= 0; i--) {
    for (let k = 0; k < SIG_MEMBER.length; k++) if (raw[i + k] !== SIG_MEMBER[k]) continue search;
    break;
  }
  if (i < 0) throw new FormatError('entry: no sig member');
  let j = i + SIG_MEMBER.length;
  while (j < raw.length && raw[j] !== 0x22) j++;
  return concatBytes(raw.subarray(0, i), raw.subarray(j + 1));
}

export function signedMessage(origin, unsigned) {
  return concatBytes(utf8(DOMAIN), utf8(origin), utf8('\n'), unsigned);
}

/**
 * Replays entries in order (entries.py LedgerState, the parts a task verification needs): seq and hash
 * chain, genesis and log key, the key registry (register / rotate / revoke by the office's root key),
 * every signature, and the signer rules. Broken chain links and signatures throw IntegrityError;
 * rule violations are collected in `findings` ({seq, message}).
 */
export class LedgerState {
  constructor(origin) {
    this.origin = origin;
    this.size = 0;
    this.head = ZERO_HASH;
    this.lastTime = null;
    this.keys = new Map();
    this.departments = new Map();
    this.office = null;
    this.logKey = null;
    this.logKeyName = null;
    this.tasks = new Map();
    this.findings = [];
    this.pending = []; // deferred signature checks: [seq, signer, message, signature, publicKey]
  }

  /**
   * Check the deferred signatures, in ledger order (sequential WebCrypto calls are faster than parallel
   * ones in node 20); IntegrityError names the first that fails.
   */
  async verifyPending() {
    for (const [seq, signer, m, sig, pub] of this.pending) {
      if (!(await verifyEd25519(pub, m, sig))) throw new IntegrityError(`entry ${seq}: signature by ${signer} does not verify`);
    }
    this.pending = [];
  }

  /**
   * Check `e` as the next entry and add it. With `defer`, its signature is queued in `pending` (check
   * them with verifyPending before trusting the state); otherwise it is checked now.
   */
  async apply(e, { defer = false } = {}) {
    this.defer = defer;
    if (e.seq !== this.size) throw new IntegrityError(`entry ${this.size}: expected seq ${this.size}, got ${e.seq}`);
    if (e.prev !== this.head) throw new IntegrityError(`entry ${e.seq}: hash chain broken: expected prev ${this.head}, got ${e.prev}`);
    if ((e.seq === 0) !== (e.type === 'genesis')) throw new IntegrityError(`entry ${e.seq}: expected ${e.seq === 0 ? 'a genesis' : 'no genesis'} entry, got type ${e.type}`);
    const policy = (m) => this.findings.push({ seq: e.seq, message: m });
    if (e.type === 'genesis') {
      const b = e.body;
      if (b.origin !== this.origin) throw new IntegrityError(`entry 0: expected origin ${this.origin}, got ${b.origin}`);
      const v = await parseVerifierKey(b.log_key);
      if (v.alg !== ALG_ED25519) throw new FormatError('genesis log_key: expected an Ed25519 (type 0x01) key');
      if (e.signer !== v.name) throw new IntegrityError(`entry 0: expected signer ${v.name} (the log key), got ${e.signer}`);
      await this.checkSig(e, v.publicKey);
      this.office = b.office;
      for (const d of b.departments || []) this.departments.set(d.id, d.name);
      this.logKey = b.log_key;
      this.logKeyName = v.name;
      for (const rec of b.keys || []) this.addKey(rec, e);
    } else {
      if (this.lastTime !== null && e.time < this.lastTime) policy(`time ${e.time} is before the previous entry's time ${this.lastTime}`);
      const key = this.keys.get(e.signer);
      if (!key) {
        if (e.signer === this.logKeyName) policy(`${e.type} signed by the log key, which may sign only the genesis entry`);
        else throw new IntegrityError(`entry ${e.seq}: signed by ${e.signer}, which is not a registered key`);
      } else {
        await this.checkSig(e, key.publicKey);
        if (key.role === 'witness') policy(`${e.type} signed by witness key ${key.name}; witness keys only cosign checkpoints`);
        if (e.time < key.validFrom) policy(`signed by ${key.name} before the key was valid (from ${key.validFrom})`);
        if (key.validUntil !== null && e.time >= key.validUntil) policy(`signed by ${key.name}, ${key.status} at ${key.validUntil}`);
        if (key.compromisedSince && e.time >= key.compromisedSince) policy(`signed by ${key.name}, reported compromised since ${key.compromisedSince}`);
        const why = this.signerProblem(e, key);
        if (why) policy(why);
      }
      this.update(e);
    }
    this.size++;
    this.head = e.hash;
    this.lastTime = this.lastTime === null || e.time > this.lastTime ? e.time : this.lastTime;
  }

  async checkSig(e, publicKey) {
    if (this.defer) {
      this.pending.push([e.seq, e.signer, signedMessage(this.origin, e.unsigned), e.sig, publicKey]);
      return;
    }
    if (!(await verifyEd25519(publicKey, signedMessage(this.origin, e.unsigned), e.sig))) {
      throw new IntegrityError(`entry ${e.seq}: signature by ${e.signer} does not verify`);
    }
  }

  signerProblem(e, key) {
    const rule = ENTRY_TYPES[e.type][0];
    let roles = ['head', 'operator'];
    let want;
    if (rule === 'root') {
      return key.role === 'root' && key.department === this.office ? null : `${e.type} must be signed by a root key of the office; got ${key.name} (${key.department}, ${key.role})`;
    }
    if (rule === 'office') want = [this.office];
    else if (rule === 'lead' || rule === 'task_department') {
      const task = this.tasks.get(e.body.task);
      if (!task) return `${e.type} for task ${e.body.task}, which no published plan contains`;
      want = [task.lead];
      if (rule === 'task_department') {
        if (![task.lead, ...task.participants].includes(e.body.department)) return `${e.type}: department ${e.body.department} does not take part in task ${e.body.task}`;
        want = [e.body.department];
      }
    } else {
      want = [e.body.department];
      if (rule === 'result_head') roles = ['head'];
    }
    return want.includes(key.department) && roles.includes(key.role) ? null
      : `${e.type} must be signed by a ${roles.join(' or ')} key of ${want.join(', ')}; got ${key.name} (${key.department}, ${key.role})`;
  }

  update(e) {
    const b = e.body;
    if (e.type === 'key.register') this.addKey(b.key, e);
    else if (e.type === 'key.rotate') {
      const old = this.keys.get(b.old);
      if (old && old.status === 'active') Object.assign(old, { status: 'rotated', validUntil: e.time, replacedBy: b.key.name });
      this.addKey(b.key, e);
    } else if (e.type === 'key.revoke') {
      const old = this.keys.get(b.name);
      if (old && old.status === 'active') Object.assign(old, { status: 'revoked', validUntil: e.time, compromisedSince: b.compromised_since || null });
    } else if (e.type === 'plan.publish') {
      for (const t of b.tasks || []) this.tasks.set(t.id, { lead: t.lead, participants: [...t.participants] });
    }
  }

  addKey(rec, e) {
    if (!rec || typeof rec.name !== 'string') throw new FormatError(`entry ${e.seq}: expected a key record`);
    if (this.keys.has(rec.name) || rec.name === this.logKeyName) {
      this.findings.push({ seq: e.seq, message: `key name ${rec.name} is already used; key names are never reused` });
      return;
    }
    const pub = fromBase64(rec.public_key, `entry ${e.seq} key ${rec.name}`);
    if (pub.length !== 32) throw new FormatError(`entry ${e.seq}: key ${rec.name}: expected a 32-byte Ed25519 public key, got ${pub.length} bytes`);
    this.keys.set(rec.name, {
      name: rec.name, department: rec.department, role: rec.role, publicKey: pub, registeredSeq: e.seq,
      validFrom: e.time, validUntil: null, status: 'active', compromisedSince: null,
    });
  }
}
