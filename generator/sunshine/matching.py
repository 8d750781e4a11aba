"""Inspector matching (双随机, second half): eligibility, rankings, teams, replacements.

Normative text: ``docs/spec/draw.md`` §7. For each selected target, in draw order, every task
department ranks its certified officers by a keyed random permutation of its officer list (sorted
by id): a lazy Fisher–Yates shuffle whose uniform integers come from the stream

    block_j = HMAC-SHA256(PRK, frame("match", department, target) || uint32_be(j)),  j = 0, 1, …
    words   = the 8-byte big-endian integers of block_0, block_1, … (4 per block)
    uniform(n): take the next word x; accept if x < 2**64 − (2**64 mod n) and return x mod n,
                otherwise discard x and take the next (rejection sampling, no modulo bias)

Experts and third parties are ranked the same way with ``frame("expert", target)`` over all task
departments' experts. The team is then, in this order:

1. the **leader**: the first officer of the lead department's ranking who holds every required
   qualification, has capacity left and no declared conflict with the target;
2. for each department (lead first, then participants in commitment order): the first eligible
   officers of its ranking until the department has ``per_department`` in the group;
3. if fewer than ``min_officers`` officers: further eligible officers of the lead department;
4. ``experts`` experts from the expert ranking (on top; never counted as officers).

"Eligible" = capacity left in this task, no declared conflict with the target, not already in the
group, and not previously replaced out of it. Every member's capacity drops by one. When a step
cannot be filled the whole draw fails with :class:`DrawError` (no partial team).

A replacement takes the next eligible inspector in the same ranking (same department, same
kind; a replaced leader is replaced by an officer who meets the leader's conditions): no new
randomness.

Pure: no I/O, no clock, no OS randomness.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import hkdf
from .beacon import frame
from .errors import DrawError

_TWO64 = 1 << 64
_UNPACK = struct.Struct(">4Q").unpack
_WORD0 = struct.Struct(">Q").unpack_from  # word 0 of a block
_BLOCK0 = bytes(4)  # uint32_be(0)
_EXPERT_KEY = ("expert", None)


class Stream:
    """Uniform integers from ``HMAC(PRK, prefix || uint32_be(j))`` blocks, by rejection sampling."""

    __slots__ = ("_mac", "_prefix", "_block", "_words")

    def __init__(self, mac, prefix: bytes) -> None:
        self._mac = mac
        self._prefix = prefix
        self._block = 0
        self._words: list[int] = []

    def word(self) -> int:
        if not self._words:
            b = self._mac(self._prefix + self._block.to_bytes(4, "big"))
            self._block += 1
            self._words = list(_UNPACK(b)[::-1])  # popped from the end: word 0 first
        return self._words.pop()

    def uniform(self, n: int) -> int:
        """A uniform integer in ``[0, n)``."""
        if n < 1:
            raise ValueError(f"expected n >= 1, got {n}")
        limit = _TWO64 - _TWO64 % n
        while True:
            x = self.word()
            if x < limit:
                return x % n


def _fisher_yates(items: list, stream: Stream):
    """Yield ``items`` in the order of a lazy Fisher–Yates shuffle driven by ``stream``."""
    m = len(items)
    swap: dict[int, int] = {}
    uniform = stream.uniform
    for i in range(m):
        j = i + uniform(m - i)
        vi = swap.get(i, i)
        vj = swap.get(j, j)
        swap[j] = vi
        yield items[vj]


class Ranking:
    """A lazily materialised uniform permutation of ``items``; iterating again replays it."""

    __slots__ = ("_gen", "order")

    def __init__(self, items: list, stream: Stream) -> None:
        self._gen = _fisher_yates(items, stream)
        self.order: list = []

    def __iter__(self):
        order = self.order
        k = 0
        while True:
            if k < len(order):
                yield order[k]
            else:
                x = next(self._gen, None)
                if x is None:
                    return
                order.append(x)
                yield x
            k += 1


@dataclass(frozen=True, slots=True)
class Team:
    target: str
    leader: str
    officers: tuple[str, ...]  # leader first, then in order of choice
    experts: tuple[str, ...]

    def to_json(self) -> dict:
        return {"target": self.target, "leader": self.leader, "officers": list(self.officers), "experts": list(self.experts)}


class MatchState:
    """Capacities and rankings across the teams of one task (mutable: replacements update it)."""

    def __init__(self, prk: bytes, inspectors: list[dict], lead: str, participants: tuple[str, ...], team: dict) -> None:
        expander = hkdf.Expander(prk)
        self._mac = expander.mac
        self.lead = lead
        self.departments = (lead, *participants)
        self.rules = team
        self.required = frozenset(team["qualifications"])
        self.by_id = {r["id"]: r for r in inspectors}
        self.conflicts = {r["id"]: frozenset(r["conflicts"]) for r in inspectors}
        self.quals = {r["id"]: frozenset(r["qualifications"]) for r in inspectors}
        self.remaining = {r["id"]: r["capacity"] for r in inspectors}
        self.officers = {d: [r["id"] for r in inspectors if r["department"] == d and r["kind"] == "officer"] for d in self.departments}
        self.experts = [r["id"] for r in inspectors if r["kind"] == "expert"]
        self.teams: dict[str, Team] = {}
        self.removed: dict[str, set[str]] = {}
        self._rankings: dict[tuple, Ranking] = {}
        self._current: str | None = None
        self._prefix = {d: frame("match", d) for d in self.departments}
        self._prefix[None] = frame("expert")
        # per ranking: (HMAC with its prefix absorbed, items, m, rejection limit) for the head of block 0
        self._head = {}
        for key, items in [*((("match", d), self.officers[d]) for d in self.departments), (_EXPERT_KEY, self.experts)]:
            m = len(items)
            self._head[key] = (expander.mac_prefixed(self._prefix[key[1]]), items, m, _TWO64 - _TWO64 % m if m else 0)

    @classmethod
    def create(cls, prk, inspectors, lead, participants, team) -> MatchState:
        return cls(prk, inspectors, lead, tuple(participants), team)

    def ranking(self, kind: str, department: str | None, target: str) -> Ranking:
        """The ranking of ``department``'s officers (kind "match") or of the experts for ``target``.

        Rankings of the target being assigned are cached; others are rebuilt (deterministically).
        """
        if self._current != target:
            self._current = target
            self._rankings = {}
        key = (kind, department)
        r = self._rankings.get(key)
        if r is None:
            t = target.encode("utf-8")
            t = len(t).to_bytes(4, "big") + t
            if kind == "match":
                prefix, items = self._prefix[department] + t, self.officers[department]
            else:
                prefix, items = self._prefix[None] + t, self.experts
            r = self._rankings[key] = Ranking(items, Stream(self._mac, prefix))
        return r

    def _first(self, ranking: Ranking, target: str, taken, *, leader: bool = False) -> str | None:
        """The first eligible inspector of ``ranking`` for ``target`` (see the module docstring)."""
        remaining, conflicts, quals, required = self.remaining, self.conflicts, self.quals, self.required
        removed = self.removed.get(target, ())
        for iid in ranking:
            if (
                remaining[iid] > 0
                and iid not in taken
                and target not in conflicts[iid]
                and iid not in removed
                and (not leader or required <= quals[iid])
            ):
                return iid
        return None

    def _pick(self, key: tuple, target: str, taken, leader: bool, tframe: bytes) -> str | None:
        """``_first`` of the ranking ``key`` = (kind, department), computing only its head when the head is eligible.

        Same result as ``_first(self.ranking(*key, target), ...)``: the head of a ranking is
        ``items[uniform(m)]`` from a fresh stream, i.e. ``items[x % m]`` for the first word ``x``
        of block 0 when ``x`` is below the rejection limit; when the head is ineligible (or that
        word is rejected) the ranking is built. ``tframe`` is ``frame(target) || uint32_be(0)``.
        """
        if self._current != target or key not in self._rankings:
            mac, items, m, limit = self._head[key]
            if not m:
                return None
            x = _WORD0(mac(tframe))[0]
            if x < limit:
                iid = items[x % m]
                if (
                    self.remaining[iid] > 0
                    and iid not in taken
                    and target not in self.conflicts[iid]
                    and (not self.removed or iid not in self.removed.get(target, ()))
                    and (not leader or self.required <= self.quals[iid])
                ):
                    return iid
        return self._first(self.ranking(key[0], key[1], target), target, taken, leader=leader)

    def assign(self, target: str) -> Team:
        """Draw the team of ``target`` (raises :class:`DrawError` when a rule cannot be met)."""
        if target in self.teams:
            raise DrawError(f"target {target}: already has a team")
        rules = self.rules
        t = target.encode("utf-8")
        tframe = len(t).to_bytes(4, "big") + t + _BLOCK0
        pick = self._pick
        lead_key = ("match", self.lead)
        taken: list[str] = []
        leader = pick(lead_key, target, taken, True, tframe)
        if leader is None:
            need = f" holding {', '.join(sorted(self.required))}" if self.required else ""
            raise DrawError(
                f"target {target}: no eligible group leader in the lead department {self.lead}: expected a certified"
                f" officer{need} with capacity left and no declared conflict, got none",
                hint="add officers to the inspector directory, raise their capacity, or change the team rules before the commitment",
            )
        taken.append(leader)
        per_department = rules["per_department"]
        for d in self.departments:
            # officers in the group from d: the leader (an officer of the lead department) and none
            # of the earlier departments' picks, each drawn from its own department's officers
            have = 1 if d == self.lead else 0
            while have < per_department:
                iid = pick(("match", d), target, taken, False, tframe)
                if iid is None:
                    raise DrawError(
                        f"target {target}: department {d} must contribute {rules['per_department']} officer(s)"
                        f" (每个部门自行抽取), but only {have} eligible officer(s) are left",
                        hint="eligible = certified officer, capacity left in this task, no declared conflict",
                    )
                taken.append(iid)
                have += 1
        while len(taken) < rules["min_officers"]:
            iid = pick(lead_key, target, taken, False, tframe)
            if iid is None:
                raise DrawError(
                    f"target {target}: expected at least {rules['min_officers']} certified officers in the group,"
                    f" got {len(taken)}: no further eligible officer in the lead department {self.lead}",
                    hint="experts and third parties never count towards the officer minimum",
                )
            taken.append(iid)
        experts: list[str] = []
        while len(experts) < rules["experts"]:
            iid = pick(_EXPERT_KEY, target, taken + experts, False, tframe)
            if iid is None:
                raise DrawError(f"target {target}: expected {rules['experts']} expert(s) on top of the officers, got {len(experts)}")
            experts.append(iid)
        remaining = self.remaining
        for iid in taken:
            remaining[iid] -= 1
        for iid in experts:
            remaining[iid] -= 1
        team = Team(target, leader, tuple(taken), tuple(experts))
        self.teams[target] = team
        return team

    def replace(self, target: str, inspector: str) -> Team:
        """Replace ``inspector`` in ``target``'s team by the next eligible one of the same ranking."""
        team = self.teams.get(target)
        if team is None:
            raise DrawError(f"target {target}: has no team to change")
        if inspector not in team.officers and inspector not in team.experts:
            raise DrawError(f"target {target}: {inspector} is not a member of its team (members: {', '.join(team.officers + team.experts)})")
        current = [*team.officers, *team.experts]
        self.removed.setdefault(target, set()).add(inspector)
        rec = self.by_id[inspector]
        if rec["kind"] == "expert":
            new = self._first(self.ranking("expert", None, target), target, current)
        else:
            new = self._first(self.ranking("match", rec["department"], target), target, current, leader=inspector == team.leader)
        if new is None:
            self.removed[target].discard(inspector)
            raise DrawError(
                f"target {target}: no eligible replacement for {inspector} in its ranking"
                f" ({'experts' if rec['kind'] == 'expert' else 'department ' + rec['department']})"
            )
        self.remaining[inspector] += 1
        self.remaining[new] -= 1
        swap = lambda ids: tuple(new if i == inspector else i for i in ids)  # noqa: E731
        team = Team(target, new if team.leader == inspector else team.leader, swap(team.officers), swap(team.experts))
        self.teams[target] = team
        return team

    def drop(self, target: str) -> None:
        """Remove ``target``'s team (its target was replaced); members get their capacity back."""
        team = self.teams.pop(target)
        for iid in (*team.officers, *team.experts):
            self.remaining[iid] += 1
