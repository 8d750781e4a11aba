"""The draw engine (双随机, first half): commitment checks, seed, tickets, strata, selection, queues.

Normative text: ``docs/spec/draw.md`` (algorithm ``sunshine.draw/v1``). In short:

* ``salt = SHA-256(frame("sunshine.draw/v1", "salt", task, JCS(commit body)))``
* ``IKM  = frame("sunshine.draw/v1", "ikm") || frame("drand", chain, round, randomness)
  || frame("lottery", name, RFC 3797 string)… || frame("contribution", department, secret)…``
* ``PRK  = HKDF-Extract(salt, IKM)`` (the seed); a member's ticket is
  ``HKDF-Expand(PRK, frame("target", stratum, label), 32)``
* per stratum, members ordered by (ticket, label); the first ``sample`` are selected, the next
  ones form the replacement queue; inspector teams come from :mod:`sunshine.matching`.

The engine takes plain data (commit and randomness bodies, a ``get_blob`` callable) and never the
``Dataset``, so an auditor needs no loader. :func:`recompute` is the verification entry point and
:func:`compare_with_lock` turns differences into plain words.

Pure: standard library (plus :mod:`sunshine.beacon`, which loads ``py_ecc`` lazily); no I/O, no
clock, no OS randomness.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from . import beacon, canonical, hkdf, merkle
from .beacon import ALGORITHM, frame
from .errors import DrawError, FormatError, IntegrityError

GetBlob = Callable[[str], bytes]

LABEL_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
ID_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_REF_RE = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_RATIO_RE = re.compile(r"(0|[1-9][0-9]*)/([1-9][0-9]*)")

NOTICE_MODES = ("notified", "no_notice")
COMMIT_FIELDS = frozenset({
    "algorithm", "task", "year", "items", "lead", "participants", "notice", "draw_date", "pool", "exclusions",
    "cap_overrides", "strata", "sealed", "inspectors", "team", "randomness",
})
REVEAL_MODES = ("with_randomness", "with_list")


# --------------------------------------------------------------------------- blobs and hashes

def blob_ref(data: bytes) -> str:
    """``"sha256:" + hex(SHA-256(data))``: the content address of a blob."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def body_hash(body: dict) -> str:
    """Hex SHA-256 of the RFC 8785 encoding of an entry body (how entries refer to each other)."""
    return hashlib.sha256(canonical.encode(body)).hexdigest()


def encode_labels(labels: list[str]) -> bytes:
    """The canonical JSON array of labels (labels need no escaping, see ``LABEL_RE``)."""
    return ('["' + '","'.join(labels) + '"]').encode("ascii") if labels else b"[]"


def fetch_blob(get_blob: GetBlob, ref: str, what: str) -> bytes:
    """Fetch a blob and check it against its content address (:class:`IntegrityError` if not)."""
    if not isinstance(ref, str) or not _REF_RE.fullmatch(ref):
        raise FormatError(f"{what}: expected a blob reference 'sha256:<64 hex>', got {ref!r}")
    try:
        data = get_blob(ref)
    except (KeyError, FileNotFoundError):
        raise DrawError(f"{what}: blob {ref} is not available", hint="the draw cannot be recomputed without it") from None
    if blob_ref(data) != ref:
        raise IntegrityError(f"{what}: blob content does not match its address: expected {ref}, got {blob_ref(data)}")
    return data


_LABELS_BLOB_RE = re.compile(rb'\[(?:"[0-9A-Za-z][0-9A-Za-z._-]{0,63}"(?:,"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")*)?\]')


def decode_labels(data: bytes, what: str) -> list[str]:
    """Parse a labels blob: a canonical JSON array of valid labels, strictly ascending."""
    if _LABELS_BLOB_RE.fullmatch(data):  # the whole blob checked in one pass
        labels = data[2:-2].decode("ascii").split('","') if len(data) > 2 else []
    else:
        labels = canonical.decode(data)
        if not isinstance(labels, list):
            raise FormatError(f"{what}: expected a JSON array of labels, got {type(labels).__name__}")
        for i, label in enumerate(labels):
            if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
                raise FormatError(f"{what}[{i}]: expected a label of 1–64 letters, digits, '.', '_' or '-', got {label!r}")
    if labels != sorted(labels) or len(set(labels)) != len(labels):
        for i in range(1, len(labels)):
            if labels[i] <= labels[i - 1]:
                raise FormatError(f"{what}[{i}]: expected labels in strictly ascending order, got {labels[i]!r} after {labels[i - 1]!r}")
    return labels


def pool_root(labels: list[str]) -> str:
    """RFC 6962 Merkle tree hash over the sorted labels (leaf = UTF-8 label), hex."""
    return merkle.root([merkle.leaf_hash(x.encode("utf-8")) for x in labels]).hex()


def parse_ratio(text: str, what: str) -> Fraction:
    """A ratio written ``"p/q"`` in lowest terms, 0 < p/q ≤ 1."""
    m = _RATIO_RE.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise FormatError(f"{what}: expected a ratio 'p/q' (integers), got {text!r}")
    r = Fraction(int(m.group(1)), int(m.group(2)))
    if f"{r.numerator}/{r.denominator}" != text or not 0 < r <= 1:
        raise FormatError(f"{what}: expected a ratio in lowest terms between 0 and 1, got {text!r}")
    return r


def sample_size(size: int, ratio: Fraction, minimum: int) -> int:
    """``min(N, max(minimum, ceil(N·ratio)))`` in integers."""
    n = -(-size * ratio.numerator // ratio.denominator)
    return min(size, max(minimum, n))


def queue_length(size: int, sample: int) -> int:
    """How many queue entries the outcome records: ``min(N − n, max(n, 10))``."""
    return min(size - sample, max(sample, 10))


# --------------------------------------------------------------------------- seed

def salt(commit_body: dict) -> bytes:
    task = commit_body.get("task")
    if not isinstance(task, str):
        raise FormatError(f"commit: field 'task': expected a string, got {task!r}")
    return hashlib.sha256(frame(ALGORITHM, "salt", task, canonical.encode(commit_body))).digest()


@dataclass(frozen=True, slots=True)
class RandomnessValues:
    """The revealed randomness, in commit order: drand, lotteries, contributions."""

    drand_chain: str | None  # None: a draw without a public beacon (§3.5)
    drand_round: int | None
    drand_randomness: bytes | None  # 32 bytes, SHA-256 of the verified signature
    lotteries: tuple[tuple[str, bytes], ...] = ()  # (name, RFC 3797 string)
    contributions: tuple[tuple[str, bytes], ...] = ()  # (department, 32-byte secret)


def ikm(values: RandomnessValues) -> bytes:
    out = bytearray(frame(ALGORITHM, "ikm"))
    if values.drand_chain is not None:  # §3.5: no drand frame when the commitment names no round
        out += frame("drand", values.drand_chain, str(values.drand_round), values.drand_randomness)
    for name, key in values.lotteries:
        out += frame("lottery", name, key)
    for dept, secret in values.contributions:
        out += frame("contribution", dept, secret)
    return bytes(out)


def seed(commit_body: dict, values: RandomnessValues) -> bytes:
    """The PRK: ``HKDF-Extract(salt(commit), IKM(values))``."""
    return hkdf.extract(salt(commit_body), ikm(values))


def ticket(prk: bytes, stratum: str, label: str) -> bytes:
    """A member's 32-byte ticket: ``HKDF-Expand(PRK, frame("target", stratum, label), 32)``."""
    return hkdf.expand(prk, frame("target", stratum, label), 32)


def tickets_sorted_keys(ex: hkdf.Expander, stratum: str, labels: list[str]) -> list[bytes]:
    """``ticket || label`` for each label (bytes order = (ticket, label) order)."""
    return ex.block1_many(frame("target", stratum), [x.encode("utf-8") for x in labels])


# --------------------------------------------------------------------------- the commitment

@dataclass(frozen=True, slots=True)
class StratumSpec:
    id: str
    label: str
    ratio: Fraction
    minimum: int
    size: int
    sample: int
    members_ref: str | None  # public strata


@dataclass(frozen=True, slots=True)
class Commitment:
    """A checked ``draw.commit`` body with its blobs loaded."""

    body: dict
    task: str
    lead: str
    participants: tuple[str, ...]
    notice: str
    labels: list[str]
    strata: tuple[StratumSpec, ...]
    members: dict[str, list[str]] | None  # stratum id -> labels (public strata); None when sealed
    sealed_commitments: list[str] | None  # parallel to labels, when sealed
    inspectors: list[dict]
    team: dict
    drand_chain: str | None  # None: no public beacon (contributions only, §3.5)
    drand_round: int | None
    lotteries: tuple[str, ...]
    contributions: tuple[tuple[str, str, str], ...]  # (department, commitment hex, reveal mode)

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.participants)

    @property
    def sealed(self) -> bool:
        return self.sealed_commitments is not None


def _get(obj: dict, key: str, kind, what: str):
    if not isinstance(obj, dict):
        raise FormatError(f"{what}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise FormatError(f"{what}: missing field {key!r}")
    v = obj[key]
    if kind is int:
        if type(v) is not int:
            raise FormatError(f"{what}, field {key!r}: expected an integer, got {v!r}")
    elif not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise FormatError(f"{what}, field {key!r}: expected {names}, got {v!r}")
    return v


def _id(v, what: str) -> str:
    if not isinstance(v, str) or not ID_RE.fullmatch(v):
        raise FormatError(f"{what}: expected an id of letters, digits, '.', '_' or '-', got {v!r}")
    return v


def stratum_commitment(task: str, label: str, stratum: str, nonce: bytes) -> str:
    """Hex ``SHA-256(frame(ALG, "stratum", task, label, stratum, nonce))`` (sealed strata)."""
    return hashlib.sha256(frame(ALGORITHM, "stratum", task, label, stratum, nonce)).hexdigest()


def load_commitment(body: dict, get_blob: GetBlob) -> Commitment:
    """Check a ``draw.commit`` body and load its blobs. Raises FormatError/DrawError/IntegrityError."""
    w = "draw.commit"
    if not isinstance(body, dict):
        raise FormatError(f"{w}: expected an object, got {type(body).__name__}")
    unknown = sorted(set(body) - COMMIT_FIELDS)
    if unknown:
        raise FormatError(f"{w}: unexpected field(s) {', '.join(unknown)}", hint="sunshine.draw/v1 defines the commitment's fields exactly")
    for k in ("year",):
        _get(body, k, int, w)
    if not all(isinstance(x, str) for x in _get(body, "items", list, w)):
        raise FormatError(f"{w}, field 'items': expected a list of item ids")
    _get(body, "draw_date", str, w)
    _get(body, "cap_overrides", list, w)
    alg = _get(body, "algorithm", str, w)
    if alg != ALGORITHM:
        raise DrawError(f"{w}: expected algorithm {ALGORITHM!r}, got {alg!r}", hint="this verifier implements only sunshine.draw/v1")
    task = _id(_get(body, "task", str, w), f"{w}, field 'task'")
    lead = _id(_get(body, "lead", str, w), f"{w}, field 'lead'")
    participants = tuple(_id(p, f"{w}.participants[{i}]") for i, p in enumerate(_get(body, "participants", list, w)))
    if lead in participants or len(set(participants)) != len(participants):
        raise FormatError(f"{w}.participants: expected distinct departments other than the lead {lead!r}, got {list(participants)}")
    notice = _get(body, "notice", str, w)
    if notice not in NOTICE_MODES:
        raise FormatError(f"{w}, field 'notice': expected one of {', '.join(NOTICE_MODES)}, got {notice!r}")

    pool = _get(body, "pool", dict, w)
    size = _get(pool, "size", int, f"{w}.pool")
    labels = decode_labels(fetch_blob(get_blob, _get(pool, "labels", str, f"{w}.pool"), f"{w}.pool.labels"), "pool labels")
    if len(labels) != size:
        raise IntegrityError(f"{w}.pool: expected {size} labels (pool.size), got {len(labels)} in the labels blob")
    root = _get(pool, "root", str, f"{w}.pool")
    if pool_root(labels) != root:
        raise IntegrityError(f"{w}.pool: the Merkle root of the labels is {pool_root(labels)}, but the commitment says {root}")

    excl = _get(body, "exclusions", dict, w)
    excl_list = canonical.decode(fetch_blob(get_blob, _get(excl, "list", str, f"{w}.exclusions"), f"{w}.exclusions.list"))
    if not isinstance(excl_list, list) or len(excl_list) != _get(excl, "count", int, f"{w}.exclusions"):
        raise FormatError(f"{w}.exclusions: expected a list of exactly 'count' exclusions")
    pool_set = set(labels)
    for i, e in enumerate(excl_list):
        lb = _get(e, "label", str, f"exclusions[{i}]")
        _get(e, "reason", str, f"exclusions[{i}]")
        if lb in pool_set:
            raise DrawError(f"exclusions[{i}]: {lb} is both excluded and in the pool")

    sealed_obj = body.get("sealed")
    strata_raw = _get(body, "strata", list, w)
    if not strata_raw:
        raise FormatError(f"{w}.strata: expected at least one stratum")
    strata = []
    members: dict[str, list[str]] | None = None if sealed_obj is not None else {}
    seen_ids: set[str] = set()
    covered = 0
    for i, s in enumerate(strata_raw):
        sw = f"{w}.strata[{i}]"
        sid = _id(_get(s, "id", str, sw), f"{sw}, field 'id'")
        if sid in seen_ids:
            raise FormatError(f"{sw}: duplicate stratum id {sid!r}")
        seen_ids.add(sid)
        ratio = parse_ratio(_get(s, "ratio", str, sw), f"{sw}, field 'ratio'")
        minimum = _get(s, "minimum", int, sw)
        ssize = _get(s, "size", int, sw)
        sample = _get(s, "sample", int, sw)
        if minimum < 0 or ssize < 0:
            raise FormatError(f"{sw}: expected non-negative size and minimum")
        if sample != sample_size(ssize, ratio, minimum):
            raise DrawError(
                f"{sw} ({sid}): expected sample = min(N, max(minimum, ceil(N·ratio))) = "
                f"{sample_size(ssize, ratio, minimum)} for N = {ssize}, ratio {s['ratio']}, minimum {minimum}; got {sample}"
            )
        ref = None
        if members is not None:
            ref = _get(s, "members", str, sw)
            m = decode_labels(fetch_blob(get_blob, ref, f"{sw}.members"), f"stratum {sid} members")
            if len(m) != ssize:
                raise IntegrityError(f"{sw} ({sid}): expected {ssize} members (size), got {len(m)}")
            members[sid] = m
        elif "members" in s:
            raise FormatError(f"{sw}: a sealed stratum must not publish its members")
        covered += ssize
        strata.append(StratumSpec(sid, _get(s, "label", str, sw), ratio, minimum, ssize, sample, ref))
    if covered != size:
        raise IntegrityError(f"{w}.strata: the stratum sizes add up to {covered}, but the pool has {size} members")
    sealed_commitments = None
    if members is not None:
        union = set().union(*members.values())
        if len(union) != size:  # the sizes add up to N, so fewer distinct labels means overlap
            raise IntegrityError(f"{w}.strata: some pool member is in more than one stratum")
        if union != pool_set:
            missing = sorted(pool_set - union)[:3] or sorted(union - pool_set)[:3]
            raise IntegrityError(f"{w}.strata: the strata do not partition the pool (e.g. {', '.join(missing)})")
    else:
        sealed_commitments = canonical.decode(fetch_blob(get_blob, _get(sealed_obj, "commitments", str, f"{w}.sealed"), f"{w}.sealed.commitments"))
        if not isinstance(sealed_commitments, list) or len(sealed_commitments) != size or not all(isinstance(c, str) and _HEX64.fullmatch(c) for c in sealed_commitments):
            raise FormatError(f"{w}.sealed.commitments: expected {size} hex SHA-256 commitments, one per pool label")

    insp = _get(body, "inspectors", dict, w)
    inspectors = canonical.decode(fetch_blob(get_blob, _get(insp, "list", str, f"{w}.inspectors"), f"{w}.inspectors.list"))
    _check_inspectors(inspectors, _get(insp, "count", int, f"{w}.inspectors"), (lead, *participants))

    team = _get(body, "team", dict, w)
    for k in ("min_officers", "per_department", "experts"):
        if _get(team, k, int, f"{w}.team") < 0:
            raise FormatError(f"{w}.team, field {k!r}: expected a non-negative integer")
    if team["per_department"] < 1:
        raise FormatError(f"{w}.team, field 'per_department': expected at least 1 (每个部门自行抽取检查人员)")
    quals = _get(team, "qualifications", list, f"{w}.team")
    if quals != sorted(set(quals)) or not all(isinstance(q, str) for q in quals):
        raise FormatError(f"{w}.team.qualifications: expected sorted unique strings, got {quals!r}")

    rnd = _get(body, "randomness", dict, w)
    if "drand" in rnd and rnd["drand"] is None:  # §3.5: no public beacon
        chain_hash, round_ = None, None
    else:
        drand = _get(rnd, "drand", dict, f"{w}.randomness")
        chain_hash = _get(drand, "chain", str, f"{w}.randomness.drand")
        chain = beacon.chain_by_hash(chain_hash)
        pk = _get(drand, "public_key", str, f"{w}.randomness.drand")
        if pk != chain.public_key.hex():
            raise IntegrityError(f"{w}.randomness.drand: the public key is not the pinned key of chain {chain_hash}")
        round_ = _get(drand, "round", int, f"{w}.randomness.drand")
        if round_ < 1:
            raise FormatError(f"{w}.randomness.drand, field 'round': expected >= 1, got {round_}")
    lotteries = []
    for i, lot in enumerate(_get(rnd, "lotteries", list, f"{w}.randomness")):
        lotteries.append(_get(lot, "name", str, f"{w}.randomness.lotteries[{i}]"))
    if len(set(lotteries)) != len(lotteries):
        raise FormatError(f"{w}.randomness.lotteries: expected distinct names")
    contributions = []
    for i, c in enumerate(_get(rnd, "contributions", list, f"{w}.randomness")):
        cw = f"{w}.randomness.contributions[{i}]"
        dept = _get(c, "department", str, cw)
        if dept not in (lead, *participants):
            raise FormatError(f"{cw}: expected one of the task's departments, got {dept!r}")
        com = _get(c, "commitment", str, cw)
        if not _HEX64.fullmatch(com):
            raise FormatError(f"{cw}, field 'commitment': expected 64 lowercase hex digits")
        mode = _get(c, "reveal", str, cw)
        if mode not in REVEAL_MODES:
            raise FormatError(f"{cw}, field 'reveal': expected one of {', '.join(REVEAL_MODES)}, got {mode!r}")
        contributions.append((dept, com, mode))
    if len({d for d, _, _ in contributions}) != len(contributions):
        raise FormatError(f"{w}.randomness.contributions: at most one contribution per department")
    if chain_hash is None and not contributions:
        raise DrawError(
            f"{w}.randomness: a draw without a drand round needs at least one department contribution",
            hint="name a future drand quicknet round, or have the departments commit contributions (§3.5)",
        )
    if notice == "no_notice" and not any(m == "with_list" for _, _, m in contributions):
        raise DrawError(
            f"{w}: a no-notice task needs a contribution revealed with the list",
            hint="otherwise anyone could recompute the secret list from the public pool and beacon",
        )
    return Commitment(
        body=body, task=task, lead=lead, participants=participants, notice=notice, labels=labels,
        strata=tuple(strata), members=members, sealed_commitments=sealed_commitments,
        inspectors=inspectors, team=team, drand_chain=chain_hash, drand_round=round_,
        lotteries=tuple(lotteries), contributions=tuple(contributions),
    )


def _check_inspectors(inspectors, count: int, departments: tuple[str, ...]) -> None:
    w = "inspectors"
    if not isinstance(inspectors, list) or len(inspectors) != count:
        raise FormatError(f"{w}: expected a list of {count} inspector records")
    prev = None
    for i, r in enumerate(inspectors):
        iw = f"{w}[{i}]"
        iid = _id(_get(r, "id", str, iw), f"{iw}, field 'id'")
        if prev is not None and iid <= prev:
            raise FormatError(f"{iw}: expected inspectors sorted by id, got {iid!r} after {prev!r}")
        prev = iid
        dept = _get(r, "department", str, iw)
        if dept not in departments:
            raise FormatError(f"{iw}, field 'department': expected one of {', '.join(departments)}, got {dept!r}")
        kind = _get(r, "kind", str, iw)
        if kind not in ("officer", "expert"):
            raise FormatError(f"{iw}, field 'kind': expected officer or expert, got {kind!r}")
        if _get(r, "capacity", int, iw) < 1:
            raise FormatError(f"{iw}, field 'capacity': expected an integer >= 1")
        for k in ("qualifications", "conflicts"):
            v = _get(r, k, list, iw)
            if v != sorted(set(v)) or not all(isinstance(x, str) for x in v):
                raise FormatError(f"{iw}, field {k!r}: expected sorted unique strings")
        if set(r) != {"id", "department", "kind", "capacity", "qualifications", "conflicts"}:
            raise FormatError(f"{iw}: unexpected fields {sorted(set(r) - {'id', 'department', 'kind', 'capacity', 'qualifications', 'conflicts'})}")


# --------------------------------------------------------------------------- randomness

def load_randomness(
    c: Commitment,
    body: dict,
    *,
    list_reveal: dict | None = None,
    allow_test_chain: bool = False,
) -> RandomnessValues:
    """Check a ``draw.randomness`` body (and, for no-notice tasks, the ``draw.list_reveal``'s
    contributions) against the commitment; verify the beacon; return the values in commit order."""
    w = "draw.randomness"
    if not isinstance(body, dict):
        raise FormatError(f"{w}: expected an object, got {type(body).__name__}")
    unknown = sorted(set(body) - {"algorithm", "task", "commit", "drand", "lotteries", "contributions"})
    if unknown:
        raise FormatError(f"{w}: unexpected field(s) {', '.join(unknown)}")
    if _get(body, "algorithm", str, w) != ALGORITHM:
        raise DrawError(f"{w}: expected algorithm {ALGORITHM!r}, got {body.get('algorithm')!r}")
    if _get(body, "task", str, w) != c.task:
        raise DrawError(f"{w}: expected task {c.task!r}, got {body['task']!r}")
    if _get(body, "commit", str, w) != body_hash(c.body):
        raise IntegrityError(f"{w}: refers to commitment {body['commit']}, but the task's commitment hashes to {body_hash(c.body)}")
    if c.drand_chain is None:  # §3.5: the commitment names no beacon, so the reveal carries none
        if "drand" not in body or body["drand"] is not None:
            raise IntegrityError(f"{w}.drand: expected null (the commitment names no drand round), got {body.get('drand')!r}")
        randomness = None
    else:
        drand = _get(body, "drand", dict, w)
        if _get(drand, "chain", str, f"{w}.drand") != c.drand_chain:
            raise IntegrityError(f"{w}.drand: expected chain {c.drand_chain} (named in the commitment), got {drand['chain']}")
        b = beacon.parse_beacon(_get(drand, "beacon", str, f"{w}.drand"), where=f"{w}.drand.beacon")
        if _get(drand, "round", int, f"{w}.drand") != c.drand_round or b.round != c.drand_round:
            raise IntegrityError(f"{w}.drand: expected round {c.drand_round} (named in the commitment), got round {b.round}")
        chain = beacon.chain_by_hash(c.drand_chain)
        randomness = beacon.verify_beacon(b, chain, expected_round=c.drand_round, allow_test_chain=allow_test_chain)

    lots = _get(body, "lotteries", list, w)
    if [(_get(x, "name", str, f"{w}.lotteries[{i}]")) for i, x in enumerate(lots)] != list(c.lotteries):
        raise IntegrityError(f"{w}.lotteries: expected the lotteries named in the commitment, in order: {list(c.lotteries)}")
    lotteries = tuple(
        (x["name"], beacon.encode_lottery(_get(x, "numbers", list, f"{w}.lotteries[{i}]"), where=f"{w}.lotteries[{i}].numbers"))
        for i, x in enumerate(lots)
    )

    revealed: dict[str, tuple[str, bytes]] = {}  # department -> (where revealed, secret)
    sources = [(w, body)]
    if list_reveal is not None:
        sources.append(("draw.list_reveal", list_reveal))
    for sw, src in sources:
        for i, x in enumerate(_get(src, "contributions", list, sw)):
            cw = f"{sw}.contributions[{i}]"
            dept = _get(x, "department", str, cw)
            secret_hex = _get(x, "secret", str, cw)
            if not _HEX64.fullmatch(secret_hex):
                raise FormatError(f"{cw}, field 'secret': expected 64 lowercase hex digits")
            if dept in revealed:
                raise FormatError(f"{cw}: contribution of {dept!r} revealed twice")
            revealed[dept] = (sw, bytes.fromhex(secret_hex))
    contributions = []
    for dept, com, mode in c.contributions:
        expected_where = "draw.list_reveal" if mode == "with_list" else w
        if dept not in revealed:
            raise DrawError(f"contribution of {dept!r} has not been revealed (expected in {expected_where})")
        where, secret = revealed.pop(dept)
        if where != expected_where:
            raise DrawError(f"contribution of {dept!r}: expected it revealed in {expected_where}, got it in {where}")
        got = beacon.contribution_commitment(c.task, dept, secret)
        if got != com:
            raise IntegrityError(f"contribution of {dept!r}: the revealed secret hashes to {got}, but the commitment is {com}")
        contributions.append((dept, secret))
    if revealed:
        raise FormatError(f"contributions revealed for departments that committed none: {sorted(revealed)}")
    return RandomnessValues(c.drand_chain, c.drand_round, randomness, lotteries, tuple(contributions))


# --------------------------------------------------------------------------- selection

@dataclass(frozen=True, slots=True)
class StratumOutcome:
    id: str
    size: int
    sample: int
    cutoff: bytes | None  # ticket of the last selected member (None when sample is 0)
    selected: tuple[str, ...]  # ticket order
    queue: tuple[str, ...]  # the recorded head of the queue, ticket order
    selected_tickets: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class DrawOutcome:
    """Everything the draw determines. ``to_document()`` is the outcome blob of ``draw.lock``."""

    task: str
    seed: bytes
    sealed: bool
    strata: tuple[StratumOutcome, ...]
    selected: tuple[str, ...]  # all strata, ordered by (ticket, label)
    stratum_of: dict[str, str]  # selected label -> stratum id
    teams: tuple  # matching.Team, in ``selected`` order
    state: object = field(default=None, compare=False, repr=False)  # matching.MatchState

    def to_document(self) -> dict:
        return outcome_document(self)


PARALLEL_MIN = 10_000  # pools smaller than this are never split into parts, whatever ``starmap`` says


def candidate_bound(size: int, k: int) -> bytes | None:
    """A ticket bound below which, with overwhelming probability, at least ``k`` of ``size`` tickets fall.

    Tickets are uniform 256-bit numbers, so the number below ``bound = E·2^256/size`` is binomial with
    mean ``E``; ``E = k + 8·√k + 64`` puts ``k`` more than 8 standard deviations below the mean.
    ``None`` (keep every ticket) when ``E ≥ size``. The bound affects the work only, never the result:
    :func:`select` checks that at least ``k`` tickets fell below it and otherwise recomputes the
    stratum without one.
    """
    expected = k + 8 * math.isqrt(k) + 64
    if expected >= size:
        return None
    return ((expected << 256) // size).to_bytes(32, "big")


def part_candidates(prk: bytes, work: list[tuple[str, list[str], int, int, bytes | None]]) -> list[list[bytes]]:
    """For each ``(stratum, labels, start, stop, bound)``: the ``ticket || label`` keys of
    ``labels[start:stop]`` with ``ticket < bound``.

    One part of the per-member phase of :func:`select` (a top-level function, so that a process pool
    can run it). Keys are in the order of ``labels``; every key if ``bound`` is ``None``. The part is
    a range of the whole list rather than a copy of it so that a forked worker touches (and so
    copies) only the memory of its own labels.
    """
    ex = hkdf.Expander(prk)
    out = []
    for sid, labels, start, stop, bound in work:
        part = labels if start == 0 and stop == len(labels) else labels[start:stop]
        out.append(ex.block1_keys_below(frame("target", sid), part, bound))
    return out


def select(prk: bytes, assignment: dict[str, list[str]], strata: tuple[StratumSpec, ...], *, starmap=None, chunks: int = 2) -> list[StratumOutcome]:
    """Per stratum: order members by (ticket, label); first ``sample`` selected; then the queue.

    Only the keys below :func:`candidate_bound` are kept; if fewer than ``sample + queue`` of a
    stratum fall below it (practically never), that stratum is recomputed keeping every key, so the
    result is exactly the spec's whatever the tickets.

    ``starmap`` (optional: ``starmap(part_candidates, [(prk, work), …])`` returning the results in
    order) spreads the tickets of all strata over ``chunks`` contiguous parts of every stratum; pools
    under :data:`PARALLEL_MIN` members are computed in one part. The result is identical: the keys
    below a bound are the union of each part's keys below it. Each part's work names the whole
    member lists, which suits ``draw_parallel.fork_starmap`` (forked workers inherit them); a pool
    that pickles its arguments would send every list to every worker.
    """
    for s in strata:
        members = assignment.get(s.id, [])
        if len(members) != s.size:
            raise IntegrityError(f"stratum {s.id}: expected {s.size} members, got {len(members)}")
    wanted = [s.sample + queue_length(s.size, s.sample) for s in strata]
    bounds = [candidate_bound(s.size, k) for s, k in zip(strata, wanted)]
    total = sum(s.size for s in strata)
    if starmap is not None and chunks > 1 and total >= PARALLEL_MIN:
        work = [
            [(s.id, assignment.get(s.id, []), i * s.size // chunks, (i + 1) * s.size // chunks, b) for s, b in zip(strata, bounds)]
            for i in range(chunks)
        ]
        parts = list(starmap(part_candidates, [(prk, w) for w in work]))
        if len(parts) != chunks:
            raise DrawError(f"the parallel draw returned {len(parts)} parts, expected {chunks}")
        found = [[x for part in parts for x in part[j]] for j in range(len(strata))]
    else:
        found = part_candidates(prk, [(s.id, assignment.get(s.id, []), 0, s.size, b) for s, b in zip(strata, bounds)])
    out = []
    for s, k, b, keys in zip(strata, wanted, bounds, found):
        if b is not None and len(keys) < k:  # fewer tickets below the bound than needed: keep them all
            keys = part_candidates(prk, [(s.id, assignment.get(s.id, []), 0, s.size, None)])[0]
        keys.sort()
        head = keys[:k]
        sel = head[: s.sample]
        out.append(
            StratumOutcome(
                id=s.id, size=s.size, sample=s.sample,
                cutoff=sel[-1][:32] if sel else None,
                selected=tuple(x[32:].decode("utf-8") for x in sel),
                queue=tuple(x[32:].decode("utf-8") for x in head[s.sample:]),
                selected_tickets=tuple(x[:32] for x in sel),
            )
        )
    return out


def full_queue(prk: bytes, stratum: str, members: list[str], sample: int) -> list[str]:
    """The whole replacement order of a stratum beyond the selected members (for long replacement runs)."""
    keyed = sorted(tickets_sorted_keys(hkdf.Expander(prk), stratum, members))
    return [k[32:].decode("utf-8") for k in keyed[sample:]]


def open_sealed(c: Commitment, opening: dict) -> dict[str, list[str]]:
    """Check an opening file against the sealed commitments; return stratum id -> sorted labels."""
    w = "opening"
    if _get(opening, "task", str, w) != c.task:
        raise DrawError(f"{w}: expected task {c.task!r}, got {opening['task']!r}")
    members = _get(opening, "members", list, w)
    if len(members) != len(c.labels):
        raise IntegrityError(f"{w}: expected {len(c.labels)} members, got {len(members)}")
    ids = {s.id for s in c.strata}
    assignment: dict[str, list[str]] = {s.id: [] for s in c.strata}
    for i, (m, label, com) in enumerate(zip(members, c.labels, c.sealed_commitments)):
        mw = f"{w}.members[{i}]"
        if _get(m, "label", str, mw) != label:
            raise IntegrityError(f"{mw}: expected label {label} (pool order), got {m['label']}")
        sid = _get(m, "stratum", str, mw)
        if sid not in ids:
            raise FormatError(f"{mw}: unknown stratum {sid!r}")
        nonce = _get(m, "nonce", str, mw)
        if not _HEX64.fullmatch(nonce):
            raise FormatError(f"{mw}, field 'nonce': expected 64 lowercase hex digits")
        if stratum_commitment(c.task, label, sid, bytes.fromhex(nonce)) != com:
            raise IntegrityError(f"{mw}: {label} does not open its sealed commitment to stratum {sid!r}")
        assignment[sid].append(label)
    for s in c.strata:
        if len(assignment[s.id]) != s.size:
            raise IntegrityError(f"{w}: stratum {s.id} has {len(assignment[s.id])} members, but the commitment says {s.size}")
    return assignment


def compute(c: Commitment, values: RandomnessValues, *, opening: dict | None = None, starmap=None, chunks: int = 2) -> DrawOutcome:
    """The draw from a checked commitment and verified randomness values (``starmap``, ``chunks``: see :func:`select`)."""
    from . import matching

    prk = seed(c.body, values)
    if c.sealed:
        if opening is None:
            raise DrawError(
                f"task {c.task}: the strata are sealed; the selection can be recomputed only with the opening file",
                hint="oversight bodies receive the opening file; the public can check counts and cut-offs",
            )
        assignment = open_sealed(c, opening)
    else:
        assignment = c.members
    strata = select(prk, assignment, c.strata, starmap=starmap, chunks=chunks)
    keyed = sorted((t + lb.encode("utf-8"), lb, s.id) for s in strata for t, lb in zip(s.selected_tickets, s.selected))
    selected = tuple(lb for _, lb, _ in keyed)
    stratum_of = {lb: sid for _, lb, sid in keyed}
    state = matching.MatchState.create(prk, c.inspectors, c.lead, c.participants, c.team)
    teams = tuple(state.assign(lb) for lb in selected)
    return DrawOutcome(c.task, prk, c.sealed, tuple(strata), selected, stratum_of, teams, state)


def recompute(
    commit_body: dict,
    randomness_body: dict,
    get_blob: GetBlob,
    *,
    list_reveal: dict | None = None,
    opening: dict | None = None,
    allow_test_chain: bool = False,
) -> DrawOutcome:
    """Verification entry point: the draw as it must have come out of these inputs."""
    c = load_commitment(commit_body, get_blob)
    values = load_randomness(c, randomness_body, list_reveal=list_reveal, allow_test_chain=allow_test_chain)
    return compute(c, values, opening=opening)


# --------------------------------------------------------------------------- the outcome document

def outcome_document(o: DrawOutcome) -> dict:
    """The canonical outcome (stored as a blob; ``draw.lock`` holds its reference)."""
    strata = []
    for s in o.strata:
        d = {"id": s.id, "size": s.size, "sample": s.sample, "cutoff": s.cutoff.hex() if s.cutoff else None}
        if not o.sealed:
            d["selected"] = list(s.selected)
            d["queue"] = list(s.queue)
        strata.append(d)
    return {
        "algorithm": ALGORITHM,
        "task": o.task,
        "seed": o.seed.hex(),
        "strata": strata,
        "selected": list(o.selected),
        "teams": [t.to_json() for t in o.teams],
    }


def lock_body(commit_body: dict, randomness_body: dict, outcome_ref: str, o: DrawOutcome) -> dict:
    """The ``draw.lock`` body for an outcome stored as blob ``outcome_ref``."""
    return {
        "algorithm": ALGORITHM,
        "task": o.task,
        "commit": body_hash(commit_body),
        "randomness": body_hash(randomness_body),
        "outcome": outcome_ref,
        "selected_count": len(o.selected),
    }


def compare_with_lock(o: DrawOutcome, lock: dict, get_blob: GetBlob, *, commit_body: dict, randomness_body: dict) -> list[str]:
    """Differences between a recomputed outcome and a ``draw.lock`` entry, in plain words.

    An empty list means the lock is exactly what the inputs produce.
    """
    diffs = lock_header_differences(lock, o.task, commit_body=commit_body, randomness_body=randomness_body,
                                    selected_count=None)
    if lock.get("selected_count") != len(o.selected):
        diffs.append(f"the lock announces {lock.get('selected_count')} selected targets; the draw selects {len(o.selected)}")
    expected_doc = outcome_document(o)
    ref = lock.get("outcome")
    if ref == blob_ref(canonical.encode(expected_doc)):
        return diffs
    try:
        doc = canonical.decode(fetch_blob(get_blob, ref, "draw.lock.outcome"))
    except (FormatError, DrawError, IntegrityError) as e:
        return [*diffs, f"the lock's outcome document cannot be read: {e.message}"]
    return [*diffs, *describe_differences(expected_doc, doc)]


def describe_differences(expected: dict, got: dict) -> list[str]:
    """Plain-words differences between the recomputed outcome document and a published one."""
    out: list[str] = []
    if not isinstance(got, dict):
        return ["the lock's outcome document is not a JSON object"]
    if got.get("seed") != expected["seed"]:
        out.append("the seed in the lock differs from the seed derived from the commitment and the randomness")
    exp_strata = {s["id"]: s for s in expected["strata"]}
    got_strata = {s.get("id"): s for s in got.get("strata", []) if isinstance(s, dict)}
    for sid, es in exp_strata.items():
        gs = got_strata.get(sid)
        if gs is None:
            out.append(f"stratum {sid}: missing from the lock")
            continue
        for k in ("size", "sample", "cutoff"):
            if gs.get(k) != es.get(k):
                out.append(f"stratum {sid}: the lock says {k} {gs.get(k)!r}, the draw gives {es.get(k)!r}")
        for k, what in (("selected", "selects"), ("queue", "queues")):
            if k in es and gs.get(k) != es[k]:
                extra = [x for x in gs.get(k) or [] if x not in set(es[k])]
                missing = [x for x in es[k] if x not in set(gs.get(k) or [])]
                if extra or missing:
                    out.append(
                        f"stratum {sid}: the lock {what} {', '.join(extra[:5]) or 'nothing extra'}"
                        f" instead of {', '.join(missing[:5]) or 'nothing'}"
                    )
                else:
                    out.append(f"stratum {sid}: the lock {what} the right targets in the wrong order")
    for sid in got_strata.keys() - exp_strata.keys():
        out.append(f"stratum {sid}: in the lock but not in the commitment")
    if got.get("selected") != expected["selected"] and not any("selects" in d for d in out):
        out.append("the overall list of selected targets (in ticket order) differs")
    exp_teams = {t["target"]: t for t in expected["teams"]}
    got_teams = {t.get("target"): t for t in got.get("teams", []) if isinstance(t, dict)}
    for target, et in exp_teams.items():
        gt = got_teams.get(target)
        if gt is None:
            out.append(f"target {target}: no team in the lock")
        elif gt != et:
            for k in ("leader", "officers", "experts"):
                if gt.get(k) != et.get(k):
                    out.append(f"target {target}: the lock's {k} is {gt.get(k)!r}, the draw gives {et.get(k)!r}")
    for target in got_teams.keys() - exp_teams.keys():
        out.append(f"target {target}: the lock has a team for a target that was not drawn")
    if not out:
        out.append("the lock's outcome document differs from the recomputed one (field order, spelling or extra fields)")
    return out


# --------------------------------------------------------------------------- bodies and replacements

def make_randomness_body(
    commit_body: dict,
    beacon_text: str | None,
    *,
    lotteries: list[tuple[str, list[list[int]]]] = (),
    contributions: list[tuple[str, bytes]] = (),
) -> dict:
    """The ``draw.randomness`` body: the beacon JSON verbatim, lottery numbers, revealed secrets.

    *beacon_text* is None (and ``drand`` null) for a commitment that names no drand round (§3.5)."""
    if commit_body["randomness"].get("drand") is None:
        if beacon_text is not None:
            raise DrawError(f"task {commit_body['task']}: the commitment names no drand round; no beacon is revealed")
        drand = None
    else:
        if beacon_text is None:
            raise DrawError(f"task {commit_body['task']}: the commitment names drand round "
                            f"{commit_body['randomness']['drand']['round']}; its beacon is needed")
        b = beacon.parse_beacon(beacon_text)
        drand = {"chain": commit_body["randomness"]["drand"]["chain"], "round": b.round, "beacon": beacon_text}
    return {
        "algorithm": ALGORITHM,
        "task": commit_body["task"],
        "commit": body_hash(commit_body),
        "drand": drand,
        "lotteries": [{"name": n, "numbers": nums} for n, nums in lotteries],
        "contributions": [{"department": d, "secret": s.hex()} for d, s in contributions],
    }


def replace_target(o: DrawOutcome, target: str) -> tuple[str, object]:
    """Replace a drawn target (e.g. found deregistered) by the next unused member of its
    stratum's queue, and draw its team; returns ``(new target, team)``. No new randomness."""
    sid = o.stratum_of.get(target)
    if sid is None or target not in o.state.teams:
        raise DrawError(f"target {target}: not among the task's current targets")
    s = next(x for x in o.strata if x.id == sid)
    used = set(o.stratum_of)
    new = next((lb for lb in s.queue if lb not in used), None)
    if new is None:
        raise DrawError(
            f"stratum {sid}: the recorded replacement queue ({len(s.queue)} targets) is used up",
            hint="a new commitment (and draw) is needed for further targets",
        )
    o.state.drop(target)
    team = o.state.assign(new)
    o.stratum_of[new] = sid
    return new, team


def make_commit(
    *,
    task: str,
    year: int,
    items: list[str],
    lead: str,
    participants: list[str],
    notice: str,
    draw_date: str,
    strata: list[dict],
    assignment: dict[str, str],
    exclusions: list[tuple[str, str]],
    inspectors: list[dict],
    team: dict,
    drand_round: int | None,
    chain: beacon.Chain = beacon.QUICKNET,
    lotteries: list[str] = (),
    contributions: list[tuple[str, str, str]] = (),
    cap_overrides: list[dict] = (),
    sealed: bool = False,
    sealing_key: bytes | None = None,
) -> tuple[dict, dict[str, bytes], dict | None]:
    """Build a ``draw.commit`` body from plain data: ``(body, blobs, opening)``.

    ``strata``: ``[{"id", "label", "ratio": "p/q", "minimum"}]`` in order; ``assignment``: label ->
    stratum id for every pool member; ``inspectors``: records as in the spec (sorted by id here).
    ``sealed`` needs a secret ``sealing_key`` (≥ 32 bytes); the opening file is returned, never
    published.
    """
    import hmac as _hmac

    if notice == "no_notice" and not any(m == "with_list" for _, _, m in contributions):
        raise DrawError(
            f"task {task}: a no-notice task needs a contribution revealed with the list",
            hint="add the lead department's contribution with reveal mode with_list (docs/spec/draw.md §9)",
        )
    labels = sorted(assignment)
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        ref = blob_ref(data)
        blobs[ref] = data
        return ref

    known = {s["id"] for s in strata}
    for lb, sid in assignment.items():
        if sid not in known:
            raise DrawError(f"pool member {lb}: unknown stratum {sid!r}")
    out_strata = []
    for s in strata:
        members = [lb for lb in labels if assignment[lb] == s["id"]]
        ratio = parse_ratio(s["ratio"], f"stratum {s['id']}, field 'ratio'")
        d = {"id": s["id"], "label": s["label"], "ratio": s["ratio"], "minimum": s["minimum"], "size": len(members),
             "sample": sample_size(len(members), ratio, s["minimum"])}
        if not sealed:
            d["members"] = put(encode_labels(members))
        out_strata.append(d)
    opening = None
    sealed_obj = None
    if sealed:
        if sealing_key is None or len(sealing_key) < 32:
            raise DrawError(f"task {task}: sealed strata need a secret sealing key of at least 32 bytes")
        commitments, members_open = [], []
        for lb in labels:
            nonce = _hmac.digest(sealing_key, frame(ALGORITHM, "nonce", task, lb), "sha256")
            commitments.append(stratum_commitment(task, lb, assignment[lb], nonce))
            members_open.append({"label": lb, "stratum": assignment[lb], "nonce": nonce.hex()})
        sealed_obj = {"commitments": put(canonical.encode(commitments))}
        opening = {"algorithm": ALGORITHM, "task": task, "members": members_open}
    records = sorted(inspectors, key=lambda r: r["id"])
    excl = sorted(exclusions)
    body = {
        "algorithm": ALGORITHM,
        "task": task,
        "year": year,
        "items": list(items),
        "lead": lead,
        "participants": list(participants),
        "notice": notice,
        "draw_date": draw_date,
        "pool": {"size": len(labels), "labels": put(encode_labels(labels)), "root": pool_root(labels)},
        "exclusions": {"count": len(excl), "list": put(canonical.encode([{"label": lb, "reason": r} for lb, r in excl]))},
        "cap_overrides": list(cap_overrides),
        "strata": out_strata,
        "inspectors": {"count": len(records), "list": put(canonical.encode(records))},
        "team": dict(team),
        "randomness": {
            "drand": None if drand_round is None else
            {"chain": chain.chain_hash, "public_key": chain.public_key.hex(), "round": drand_round},
            "lotteries": [{"name": n} for n in lotteries],
            "contributions": [{"department": d, "commitment": c, "reveal": m} for d, c, m in contributions],
        },
    }
    if sealed_obj is not None:
        body["sealed"] = sealed_obj
    if len(canonical.encode(body)) > 16 * 1024:
        raise DrawError(f"task {task}: the commitment body exceeds 16 KiB", hint="too many cap overrides or lotteries")
    return body, blobs, opening


def list_reveal_body(lock: dict, contributions: list[tuple[str, bytes]]) -> dict:
    """The ``draw.list_reveal`` body of a no-notice task: the held-back secrets and the outcome."""
    return {
        "algorithm": ALGORITHM,
        "task": lock["task"],
        "lock": body_hash(lock),
        "outcome": lock["outcome"],
        "contributions": [{"department": d, "secret": s.hex()} for d, s in contributions],
    }


def apply_replacement(o: DrawOutcome, entry_type: str, body: dict) -> list[str]:
    """Replay a ``draw.replace_target`` or ``draw.replace_inspector`` body on ``o`` (in ledger
    order) and return the differences in plain words; empty when the replacement is exactly the
    one the rules designate (§§6–7 of the spec). ``o`` is updated with the designated replacement.
    """
    from .vocabulary import ReplacementReason, TargetReplacementReason

    if not isinstance(body, dict) or body.get("task") != o.task:
        return [f"{entry_type}: expected an entry for task {o.task!r}, got {body.get('task') if isinstance(body, dict) else body!r}"]
    target, claimed = body.get("target"), body.get("replacement")
    diffs: list[str] = []
    try:
        if entry_type == "draw.replace_target":
            if body.get("reason") not in TargetReplacementReason.keys():
                diffs.append(f"target {target}: replacement reason {body.get('reason')!r} is not one of {', '.join(TargetReplacementReason.keys())}")
            sid = o.stratum_of.get(target)
            new, _ = replace_target(o, target)
            if claimed != new:
                diffs.append(f"target {target}: replaced by {claimed}, but the next unused target in the queue of stratum {sid} is {new}")
        elif entry_type == "draw.replace_inspector":
            if body.get("reason") not in ReplacementReason.keys():
                diffs.append(f"target {target}: inspector replacement reason {body.get('reason')!r} is not one of {', '.join(ReplacementReason.keys())}")
            if body.get("approver_role") not in ("deputy_head", "head"):
                diffs.append(f"target {target}: an inspector replacement needs the approval of the 分管负责人 (approver_role), got {body.get('approver_role')!r}")
            inspector = body.get("inspector")
            before = o.state.teams.get(target)
            after = o.state.replace(target, inspector)
            new = next(i for i in (*after.officers, *after.experts) if i not in (*before.officers, *before.experts))
            if claimed != new:
                diffs.append(f"target {target}: {inspector} replaced by {claimed}, but the next eligible inspector of the same ranking is {new}")
        else:
            diffs.append(f"{entry_type}: not a replacement entry")
    except DrawError as e:
        diffs.append(e.message)
    return diffs


# --------------------------------------------------------------------------- sealed strata: the public checks

@dataclass(slots=True)
class SealedCheck:
    """What anyone can check of a sealed draw without the opening file (spec §8, "public checks").

    ``differences`` are in plain words (empty: every public check passes). When they pass,
    ``outcome`` is the draw as far as the public can know it — the seed, the published draw order,
    the teams matched from it (``state``) — with ``stratum_of`` mapping each target to ``None``
    (its stratum is sealed); :func:`apply_sealed_replacement` replays replacements on it.
    """

    task: str
    differences: list[str]
    outcome: DrawOutcome | None = None
    pool: frozenset = frozenset()
    drawn: set = field(default_factory=set)  # every target drawn so far (selected and replacements)


def lock_header_differences(lock: dict, task: str, *, commit_body: dict, randomness_body: dict, selected_count: int | None) -> list[str]:
    """The ``draw.lock`` fields other than the outcome, against the task's entries (plain words)."""
    diffs: list[str] = []
    if lock.get("task") != task:
        diffs.append(f"the lock is for task {lock.get('task')!r}, not {task!r}")
    if lock.get("algorithm") != ALGORITHM:
        diffs.append(f"the lock names algorithm {lock.get('algorithm')!r}, expected {ALGORITHM!r}")
    if lock.get("commit") != body_hash(commit_body):
        diffs.append("the lock refers to a different commitment than the task's draw.commit entry")
    if lock.get("randomness") != body_hash(randomness_body):
        diffs.append("the lock refers to a different randomness reveal than the task's draw.randomness entry")
    if selected_count is not None and lock.get("selected_count") != selected_count:
        diffs.append(f"the lock announces {lock.get('selected_count')} selected targets; its outcome document selects {selected_count}")
    return diffs


def sealed_public_checks(
    commit_body: dict,
    randomness_body: dict,
    lock: dict,
    get_blob: GetBlob,
    *,
    list_reveal: dict | None = None,
    allow_test_chain: bool = False,
) -> SealedCheck:
    """The public checks of a sealed draw (spec §8) against its ``draw.lock`` and outcome document.

    The commitment and randomness are checked as for any draw (:func:`load_commitment` recomputes
    each stratum's sample with the ceil rule; :func:`load_randomness` verifies the beacon and the
    contributions); bad inputs raise as in :func:`recompute`. Then, in the outcome document: the seed;
    each stratum's id, size and sample against the commitment, ``cutoff`` null exactly when ``sample``
    is 0; ``selected`` holds exactly the sum of the samples, distinct pool labels; every cut-off is
    ``ticket(S, x)`` of some selected ``x``; every selected ``x`` has ``ticket(S, x) ≤ cutoff(S)`` for
    some stratum ``S``, and at least ``sample`` selected targets are within each stratum's cut-off; the
    teams are those matching (§7) draws in the published order. Which stratum
    each target came from (so the exact selection and the queues) needs the opening file.
    """
    from . import matching

    c = load_commitment(commit_body, get_blob)
    if not c.sealed:
        raise DrawError(f"task {c.task}: the strata are public; recompute the draw in full (draw.recompute)")
    values = load_randomness(c, randomness_body, list_reveal=list_reveal, allow_test_chain=allow_test_chain)
    prk = seed(c.body, values)
    check = SealedCheck(c.task, [], pool=frozenset(c.labels))
    out = check.differences
    try:
        doc = canonical.decode(fetch_blob(get_blob, lock.get("outcome"), "draw.lock.outcome"))
    except (FormatError, DrawError, IntegrityError) as e:
        out += lock_header_differences(lock, c.task, commit_body=commit_body, randomness_body=randomness_body, selected_count=None)
        out.append(f"the lock's outcome document cannot be read: {e.message}")
        return check
    if not isinstance(doc, dict):
        out.append("the lock's outcome document is not a JSON object")
        return check
    sel = doc.get("selected")
    if not isinstance(sel, list) or not all(isinstance(x, str) and LABEL_RE.fullmatch(x) for x in sel):
        out += lock_header_differences(lock, c.task, commit_body=commit_body, randomness_body=randomness_body, selected_count=None)
        out.append("the lock's list of selected targets is not a list of labels")
        return check
    out += lock_header_differences(lock, c.task, commit_body=commit_body, randomness_body=randomness_body, selected_count=len(sel))
    if doc.get("algorithm") != ALGORITHM or doc.get("task") != c.task:
        out.append(f"the outcome document names algorithm {doc.get('algorithm')!r} and task {doc.get('task')!r}; "
                   f"expected {ALGORITHM!r} and {c.task!r}")
    if set(doc) != {"algorithm", "task", "seed", "strata", "selected", "teams"}:
        out.append(f"the outcome document has fields {sorted(doc)}; expected algorithm, task, seed, strata, selected, teams")
    if doc.get("seed") != prk.hex():
        out.append("the seed in the lock differs from the seed derived from the commitment and the randomness")
    got = doc.get("strata") if isinstance(doc.get("strata"), list) else []
    if [s.get("id") if isinstance(s, dict) else None for s in got] != [s.id for s in c.strata]:
        out.append(f"the lock's strata are not the commitment's strata in order ({', '.join(s.id for s in c.strata)})")
        return check
    want = sum(s.sample for s in c.strata)
    if len(sel) != want:
        out.append(f"the lock selects {len(sel)} targets; the strata's sample counts add up to {want}")
    if len(set(sel)) != len(sel):
        twice = sorted({x for x in sel if sel.count(x) > 1})
        out.append(f"the lock selects {', '.join(twice[:5])} more than once")
    outside = [x for x in sel if x not in check.pool]
    if outside:
        out.append(f"the lock selects {', '.join(outside[:5])}, not in the committed pool")
    cutoffs: dict[str, str] = {}
    for s, g in zip(c.strata, got):
        if set(g) != {"id", "size", "sample", "cutoff"}:
            out.append(f"stratum {s.id}: a sealed stratum's outcome has exactly id, size, sample and cutoff; got {', '.join(sorted(g))}")
        for k, v in (("size", s.size), ("sample", s.sample)):
            if g.get(k) != v:
                out.append(f"stratum {s.id}: the lock says {k} {g.get(k)!r}, the commitment says {v!r}")
        cv = g.get("cutoff")
        if (cv is None) != (s.sample == 0) or (cv is not None and not (isinstance(cv, str) and _HEX64.fullmatch(cv))):
            out.append(f"stratum {s.id}: the lock's cutoff {cv!r} does not fit sample {s.sample} "
                       f"(expected {'null' if s.sample == 0 else '64 hex digits'})")
        elif cv is not None:
            cutoffs[s.id] = cv
    if out:
        return check
    ex = hkdf.Expander(prk)
    tickets = {sid: {k[32:].decode("utf-8"): k[:32].hex() for k in tickets_sorted_keys(ex, sid, sel)} for sid in cutoffs}
    for sid, cv in cutoffs.items():
        if cv not in tickets[sid].values():
            out.append(f"stratum {sid}: the cutoff {cv} is not the ticket of any selected target in that stratum")
    for x in sel:
        if not any(tickets[sid][x] <= cv for sid, cv in cutoffs.items()):
            out.append(f"target {x}: its ticket is beyond the cut-off of every stratum, so it cannot have been drawn")
    for s in c.strata:  # the stratum's own sample members are all within its cut-off
        within = sum(1 for t in tickets.get(s.id, {}).values() if t <= cutoffs[s.id]) if s.id in cutoffs else 0
        if within < s.sample:
            out.append(f"stratum {s.id}: only {within} selected target(s) have a ticket within its cut-off, "
                       f"fewer than its sample of {s.sample}")
    if out:
        return check
    state = matching.MatchState.create(prk, c.inspectors, c.lead, c.participants, c.team)
    try:
        teams = tuple(state.assign(x) for x in sel)
    except DrawError as e:
        out.append(f"the teams cannot be matched in the published draw order: {e.message}")
        return check
    expected_teams = [t.to_json() for t in teams]
    if doc.get("teams") != expected_teams:
        exp = {"seed": prk.hex(), "strata": [], "selected": sel, "teams": expected_teams}
        out += [d for d in describe_differences(exp, {**doc, "seed": prk.hex(), "strata": []})
                if not d.startswith("the lock's outcome document differs")] or \
            ["the lock's teams differ from the teams matched in the published draw order"]
    if out:
        return check
    check.outcome = DrawOutcome(c.task, prk, True, (), tuple(sel), {x: None for x in sel}, teams, state)
    check.drawn = set(sel)
    return check


def apply_sealed_replacement(check: SealedCheck, entry_type: str, body: dict) -> list[str]:
    """Replay a replacement on a sealed draw that passed :func:`sealed_public_checks` (ledger order).

    An inspector replacement is checked as in any draw (the next eligible inspector of the same
    ranking, :func:`apply_replacement`). A target replacement comes from a sealed queue: the public
    can check only that the replacement is a pool member never drawn before (its rank in the queue
    needs the opening file); its team is then matched and later entries are judged against it.
    """
    from .vocabulary import TargetReplacementReason

    o = check.outcome
    if o is None:
        raise DrawError(f"task {check.task}: the sealed draw did not pass its public checks; replacements cannot be replayed")
    if entry_type != "draw.replace_target":
        return apply_replacement(o, entry_type, body)
    if not isinstance(body, dict) or body.get("task") != o.task:
        return [f"{entry_type}: expected an entry for task {o.task!r}, got {body.get('task') if isinstance(body, dict) else body!r}"]
    target, claimed = body.get("target"), body.get("replacement")
    diffs: list[str] = []
    if body.get("reason") not in TargetReplacementReason.keys():
        diffs.append(f"target {target}: replacement reason {body.get('reason')!r} is not one of {', '.join(TargetReplacementReason.keys())}")
    if target not in o.state.teams:
        return [*diffs, f"target {target}: not among the task's current targets"]
    if claimed not in check.pool:
        return [*diffs, f"target {target}: replaced by {claimed!r}, which is not in the committed pool"]
    if claimed in check.drawn:
        return [*diffs, f"target {target}: replaced by {claimed}, which was already drawn"]
    try:
        o.state.drop(target)
        o.state.assign(claimed)
    except DrawError as e:
        return [*diffs, e.message]
    o.stratum_of[claimed] = None
    check.drawn.add(claimed)
    return diffs
