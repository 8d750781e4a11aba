// Inspector matching (双随机, second half), as generator/sunshine/matching.py; docs/spec/draw.md §7.
//
//   block_j = HMAC-SHA256(PRK, frame("match", department, target) || uint32be(j)), j = 0, 1, …
//   words   = the 8-byte big-endian integers of block_0, block_1, … (4 per block)
//   uniform(n): next word x; accept if x < 2^64 − (2^64 mod n), return x mod n; else take the next
// Each department's officers (sorted by id) are ranked by a lazy Fisher–Yates shuffle driven by that
// stream; experts by frame("expert", target). Team: leader (lead department, all required
// qualifications), then per department `per_department` officers (lead first), then lead-department
// officers up to `min_officers`, then `experts` experts. Eligible = capacity left, no declared conflict,
// not already in the group, not replaced out of it.
import { Expander } from './expander.js';
import { frame } from './beacon.js';
import { concatBytes } from './bytes.js';
import { VerifyError } from './errors.js';

const TWO64 = 1n << 64n;

export class MatchError extends VerifyError {}

export class Stream {
  constructor(ex, prefix) { this.ex = ex; this.prefix = prefix; this.block = 0; this.words = []; }
  word() {
    if (this.words.length === 0) {
      const j = this.block++;
      const b = this.ex.mac(concatBytes(this.prefix, Uint8Array.of((j >>> 24) & 255, (j >>> 16) & 255, (j >>> 8) & 255, j & 255)));
      const dv = new DataView(b.buffer, b.byteOffset, 32);
      this.words = [3, 2, 1, 0].map((k) => dv.getBigUint64(8 * k)); // popped from the end: word 0 first
    }
    return this.words.pop();
  }
  /** A uniform integer in [0, n): a Number for a Number n, a BigInt for a BigInt n (n up to 2^64). */
  uniform(n) {
    const bn = BigInt(n);
    if (bn < 1n) throw new RangeError(`expected n >= 1, got ${n}`);
    const limit = TWO64 - (TWO64 % bn);
    for (;;) {
      const x = this.word();
      if (x < limit) return typeof n === 'bigint' ? x % bn : Number(x % bn);
    }
  }
}

export class Ranking {
  constructor(items, stream) { this.items = items; this.stream = stream; this.swap = new Map(); this.order = []; }
  at(k) {
    const m = this.items.length;
    while (this.order.length <= k) {
      const i = this.order.length;
      if (i >= m) return null;
      const j = i + this.stream.uniform(m - i);
      const vi = this.swap.has(i) ? this.swap.get(i) : i;
      const vj = this.swap.has(j) ? this.swap.get(j) : j;
      this.swap.set(j, vi);
      this.order.push(this.items[vj]);
    }
    return this.order[k];
  }
  *[Symbol.iterator]() {
    for (let k = 0; ; k++) {
      const x = this.at(k);
      if (x === null) return;
      yield x;
    }
  }
}

export class MatchState {
  constructor(prk, inspectors, lead, participants, team) {
    this.ex = new Expander(prk);
    this.lead = lead;
    this.departments = [lead, ...participants];
    this.rules = team;
    this.required = team.qualifications;
    this.byId = new Map(inspectors.map((r) => [r.id, r]));
    this.remaining = new Map(inspectors.map((r) => [r.id, r.capacity]));
    this.officers = Object.fromEntries(this.departments.map((d) => [d, inspectors.filter((r) => r.department === d && r.kind === 'officer').map((r) => r.id)]));
    this.experts = inspectors.filter((r) => r.kind === 'expert').map((r) => r.id);
    this.teams = new Map();
    this.removed = new Map();
    this.rankings = new Map();
  }

  ranking(kind, department, target) {
    const key = `${kind}\u0000${department}\u0000${target}`;
    let r = this.rankings.get(key);
    if (!r) {
      const prefix = kind === 'match' ? frame('match', department, target) : frame('expert', target);
      r = new Ranking(kind === 'match' ? this.officers[department] : this.experts, new Stream(this.ex, prefix));
      this.rankings.set(key, r);
    }
    return r;
  }

  eligible(iid, target, taken) {
    const rec = this.byId.get(iid);
    return this.remaining.get(iid) > 0 && !rec.conflicts.includes(target) && !taken.includes(iid)
      && !(this.removed.get(target) || new Set()).has(iid);
  }

  first(ranking, target, taken, leader = false) {
    for (const iid of ranking) {
      if (this.eligible(iid, target, taken) && (!leader || this.required.every((q) => this.byId.get(iid).qualifications.includes(q)))) return iid;
    }
    return null;
  }

  assign(target) {
    if (this.teams.has(target)) throw new MatchError(`target ${target}: already has a team`);
    const rules = this.rules;
    const taken = [];
    const leadRank = this.ranking('match', this.lead, target);
    const leader = this.first(leadRank, target, taken, true);
    if (leader === null) {
      const need = this.required.length ? ` holding ${[...this.required].sort().join(', ')}` : '';
      throw new MatchError(`target ${target}: no eligible group leader in the lead department ${this.lead}: expected a certified`
        + ` officer${need} with capacity left and no declared conflict, got none`);
    }
    taken.push(leader);
    for (const d of this.departments) {
      let have = taken.filter((i) => this.byId.get(i).department === d).length;
      const rank = this.ranking('match', d, target);
      while (have < rules.per_department) {
        const iid = this.first(rank, target, taken);
        if (iid === null) throw new MatchError(`target ${target}: department ${d} must contribute ${rules.per_department} officer(s), but only ${have} eligible officer(s) are left`);
        taken.push(iid);
        have++;
      }
    }
    while (taken.length < rules.min_officers) {
      const iid = this.first(leadRank, target, taken);
      if (iid === null) throw new MatchError(`target ${target}: expected at least ${rules.min_officers} certified officers in the group, got ${taken.length}`);
      taken.push(iid);
    }
    const experts = [];
    const expRank = this.ranking('expert', null, target);
    while (experts.length < rules.experts) {
      const iid = this.first(expRank, target, [...taken, ...experts]);
      if (iid === null) throw new MatchError(`target ${target}: expected ${rules.experts} expert(s) on top of the officers, got ${experts.length}`);
      experts.push(iid);
    }
    for (const iid of [...taken, ...experts]) this.remaining.set(iid, this.remaining.get(iid) - 1);
    const team = { target, leader, officers: taken, experts };
    this.teams.set(target, team);
    return team;
  }

  /** Replace `inspector` in `target`'s team by the next eligible one of the same ranking. */
  replace(target, inspector) {
    const team = this.teams.get(target);
    if (!team) throw new MatchError(`target ${target}: has no team to change`);
    if (!team.officers.includes(inspector) && !team.experts.includes(inspector)) throw new MatchError(`target ${target}: ${inspector} is not a member of its team`);
    const current = [...team.officers, ...team.experts];
    if (!this.removed.has(target)) this.removed.set(target, new Set());
    this.removed.get(target).add(inspector);
    const rec = this.byId.get(inspector);
    const next = rec.kind === 'expert'
      ? this.first(this.ranking('expert', null, target), target, current)
      : this.first(this.ranking('match', rec.department, target), target, current, inspector === team.leader);
    if (next === null) {
      this.removed.get(target).delete(inspector);
      throw new MatchError(`target ${target}: no eligible replacement for ${inspector} in its ranking`);
    }
    this.remaining.set(inspector, this.remaining.get(inspector) + 1);
    this.remaining.set(next, this.remaining.get(next) - 1);
    const swap = (ids) => ids.map((i) => (i === inspector ? next : i));
    const t = { target, leader: team.leader === inspector ? next : team.leader, officers: swap(team.officers), experts: swap(team.experts) };
    this.teams.set(target, t);
    return t;
  }

  drop(target) {
    const team = this.teams.get(target);
    this.teams.delete(target);
    for (const iid of [...team.officers, ...team.experts]) this.remaining.set(iid, this.remaining.get(iid) + 1);
  }
}
