#!/usr/bin/env python3
"""sunshine_verify.py — verify a Sunshine (阳光抽查) draw ledger with nothing but Python and `cryptography`.

    pip install cryptography            # required
    pip install py_ecc                  # optional: checks the BLS signatures of drand beacons
    python3 sunshine_verify.py LEDGER_DIR [--vkey VKEY] [--json] [--allow-test-chain] [--no-recompute]
                               [--opening FILE ...]

One self-contained file, independent of the `sunshine` package: it re-implements the formats of
docs/spec/ledger.md (RFC 8785 canonical JSON, RFC 6962 Merkle trees, C2SP signed notes, checkpoints,
cosignatures and tlog-tiles, the Sunshine entry envelope and signer rules) and the draw algorithm of
docs/spec/draw.md (sunshine.draw/v1), so that an auditor can check a published ledger without trusting
the code that wrote it.

Checks:
* layer 1: checkpoint signature, entry bundles, hash tiles, Merkle root;
* layer 2: strict entries, hash chain, Ed25519 signatures, signer registered, allowed for the type and
  valid at the entry's time, blobs, witness cosignatures;
* layer 3: the ordering rules (one live commitment per task, commit → randomness → lock → dispatch, no
  re-draw, results after the lock, correction versions), and every locked draw RECOMPUTED from its
  commitment and randomness: the commitment's fields and blobs (pool labels and Merkle root, exclusions,
  strata partition and sample counts = min(N, max(minimum, ceil(N·p/q))), inspector records, team rules,
  the pinned drand chain and key), the randomness (beacon for the committed round, lottery numbers,
  department contributions against their commitments and reveal modes), the HKDF-SHA256 seed, 32-byte
  tickets, selection, replacement queues and inspector teams, compared with the draw.lock (differences
  named in plain words: which task, stratum, target or team member); then every draw.replace_target /
  draw.replace_inspector must be the one the queue or ranking designates.
  - drand beacons: the BLS signature is verified against the pinned quicknet key when `py_ecc` is
    installed; without it a notice says the signature was NOT checked, and the draw is still recomputed
    from the beacon's randomness = SHA-256(signature). The drand test chain (public secret key) is
    rejected unless --allow-test-chain.
  - sealed strata (credit classes): without the oversight bodies' opening file only the public part is
    checked — seed, strata sizes, sample counts, cut-offs (each the ticket of a selected target; every
    selected target within some stratum's cut-off), the number of selected targets, and the teams
    recomputed from the published draw order; which stratum each target came from is not checked.
    Oversight bodies holding a task's opening file pass it with --opening FILE: its commitments are
    checked and that draw is recomputed in full.
  - no-notice tasks: the outcome is withheld until draw.list_reveal; until then the draw is not
    recomputed (a task note says so); afterwards it is, and the reveal must publish the locked outcome.
Not checked here: working-day deadlines for publishing results (they need the official holiday
calendar) — use `sunshine verify` for those; nor fork detection against a remembered checkpoint.

Exit status: 0 verified; 3 rule findings only (the ledger is authentic but breaks rules); 4 integrity
failure (tampering or damage, including a draw that does not match its lock); 1 could not run.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VERSION = "1"
TILE = 256
MAX_ENTRY = 16384
MAX_SAFE = 2**53 - 1
DOMAIN = b"sunshine/ledger/entry/v1\n"
ZERO = "0" * 64


class Bad(Exception):
    """Malformed or tampered input: an integrity failure."""


# ----------------------------------------------------------------------------- RFC 8785 (no floats)

_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


_PLAIN = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


def _jcs_str(s: str) -> str:
    if _PLAIN.fullmatch(s):  # nothing to escape (the common case)
        return '"' + s + '"'
    out = ['"']
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise Bad("lone surrogate in a string")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is int:
        if abs(v) > MAX_SAFE:
            raise Bad("integer out of range")
        return str(v)
    if isinstance(v, str):
        return _jcs_str(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_jcs_str(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise Bad(f"unsupported JSON value {type(v).__name__}")


def _pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        raise Bad("duplicate member name")
    return d


def _no_float(text):
    raise Bad(f"number {text} is not an integer")


def canonical_decode(data: bytes):
    try:
        v = json.loads(data.decode("utf-8"), object_pairs_hook=_pairs, parse_float=_no_float,
                       parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Bad(f"invalid JSON: {exc}") from None
    if jcs(v).encode("utf-8") != data:
        raise Bad("non-canonical JSON (RFC 8785)")
    return v


# ----------------------------------------------------------------------------- RFC 6962 Merkle tree


def leaf_hash(d: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + d).digest()


def node_hash(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(hashes: list) -> bytes:
    """RFC 6962 tree hash over (leaf or perfect-subtree) hashes."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


class Tree:
    """Leaf hashes and the nodes at levels 8, 16, … (what tiles hold)."""

    def __init__(self):
        self.levels = [[]]
        self.stack = []  # compact range: (height, hash)

    def append(self, leaf: bytes):
        self.levels[0].append(leaf)
        h, height = leaf, 0
        while self.stack and self.stack[-1][0] == height:
            h = node_hash(self.stack.pop()[1], h)
            height += 1
            if height % 8 == 0:
                L = height // 8
                if L == len(self.levels):
                    self.levels.append([])
                self.levels[L].append(h)
        self.stack.append((height, h))

    def root_at(self, size: int) -> bytes:
        # decompose [0, size) into perfect subtrees, built from the stored levels
        parts, lo = [], 0
        while lo < size:
            height = (size - lo).bit_length() - 1
            parts.append(self.subtree(height, lo >> height))
            lo += 1 << height
        if not parts:
            return hashlib.sha256(b"").digest()
        r = parts[-1]
        for p in reversed(parts[:-1]):
            r = node_hash(p, r)
        return r

    def subtree(self, height: int, index: int) -> bytes:
        L, r = divmod(height, 8)
        return mth(self.levels[L][index << r:(index + 1) << r])


# ----------------------------------------------------------------------------- C2SP tlog-tiles


def tile_index(n: int) -> str:
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    return s


def tile_path(level, n: int, w: int) -> str:
    return f"tile/{level}/{tile_index(n)}" + (f".p/{w}" if w < TILE else "")


_TILE_RE = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(p: str):
    m = _TILE_RE.fullmatch(p)
    if not m:
        return None
    groups = m.group(2).replace("x", "").split("/")
    if len(groups) > 1 and groups[0] == "000":
        return None
    w = int(m.group(3)) if m.group(3) else TILE
    if w >= TILE and m.group(3):
        return None
    return (m.group(1), int("".join(groups)), w)


def decode_bundle(data: bytes) -> list:
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise Bad("entry bundle: truncated length")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if len(data) - pos < n:
            raise Bad("entry bundle: truncated entry")
        out.append(data[pos:pos + n])
        pos += n
    if not 1 <= len(out) <= TILE:
        raise Bad("entry bundle: expected 1..256 entries")
    return out


# ----------------------------------------------------------------------------- C2SP signed note, checkpoint

_NAME_RE = re.compile(r"[^\s+]+")


def b64(s: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Bad(f"{what}: invalid base64") from None
    if base64.b64encode(raw).decode() != s:
        raise Bad(f"{what}: non-canonical base64")
    return raw


def key_id(name: str, alg_pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg_pub).digest()[:4]


def parse_vkey(vkey: str):
    parts = vkey.split("+", 2)  # the name has no "+"; the base64 key may (as in Go note.NewVerifier)
    if len(parts) != 3 or not _NAME_RE.fullmatch(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Bad(f"verifier key: expected name+hex8+base64, got {vkey!r}")
    raw = b64(parts[2], "verifier key")
    if len(raw) != 33 or raw[0] not in (1, 4):
        raise Bad("verifier key: expected an Ed25519 key (type 0x01 or 0x04)")
    if key_id(parts[0], raw).hex() != parts[1]:
        raise Bad("verifier key: key ID does not match the key")
    return parts[0], raw[0], raw[1:]


def parse_note(data: bytes):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("note: not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise Bad("note: control character")
    split = data.rfind(b"\n\n")
    if split < 0 or not data.endswith(b"\n") or len(data) == split + 2:
        raise Bad("note: expected text, an empty line and signature lines")
    body, sigs = data[:split + 1], []
    for line in data[split + 2:-1].decode().split("\n"):
        if not line.startswith("— "):
            raise Bad("note: signature line must start with an em dash")
        name, sep, sig = line[2:].partition(" ")
        if not sep or not _NAME_RE.fullmatch(name):
            raise Bad("note: malformed signature line")
        raw = b64(sig, "note signature")
        if len(raw) < 5:
            raise Bad("note: signature too short")
        sigs.append((name, raw[:4], raw[4:]))
    return body, sigs


def ed_verify(pub: bytes, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def open_note(data: bytes, name: str, pub: bytes) -> bytes:
    """The note text, if it carries a valid Ed25519 (0x01) signature by (name, pub); Go note.Open rules."""
    text, sigs = parse_note(data)
    kid = key_id(name, b"\x01" + pub)
    ok = False
    for n, k, s in sigs:
        if (n, k) == (name, kid):
            if len(s) != 64 or not ed_verify(pub, s, text):
                raise Bad(f"checkpoint: invalid signature by {name}")
            ok = True
    if not ok:
        raise Bad(f"checkpoint: no signature by the log key {name}+{kid.hex()}")
    return text


def parse_checkpoint(text: bytes):
    lines = text.decode().split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(x == "" for x in lines[:-1]):
        raise Bad("checkpoint: expected origin, size, root hash and optional extension lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size) or int(size) >= 2**63:
        raise Bad("checkpoint: bad size line")
    r = b64(root, "checkpoint root")
    if len(r) != 32:
        raise Bad("checkpoint: root hash is not 32 bytes")
    return origin, int(size), r


# ----------------------------------------------------------------------------- entries (spec §6–§8)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DEPT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_BLOB = re.compile(r"sha256:[0-9a-f]{64}")
_SIG = re.compile(r"[A-Za-z0-9+/]{86}==")
_ORIGIN = re.compile(r"[\x21-\x7e]{1,255}")

SIGNER = {
    "genesis": "log", "key.register": "root", "key.rotate": "root", "key.revoke": "root",
    "items.publish": "office", "plan.publish": "office", "directory.snapshot": "office",
    "checkpoint.witness": "office", "draw.commit": "lead", "draw.randomness": "lead_or_office",
    "draw.lock": "lead", "draw.list_reveal": "lead", "draw.dispatch": "lead", "draw.replace_target": "lead",
    "draw.replace_inspector": "task_department", "draw.void": "lead", "result.publish": "result_department",
    "result.correct": "result_head",
}


def _need(c, msg):
    if not c:
        raise Bad(msg)


def _is_time(v):
    if not isinstance(v, str) or not _TIME.fullmatch(v):
        return False
    try:
        datetime(int(v[:4]), int(v[5:7]), int(v[8:10]), int(v[11:13]), int(v[14:16]), int(v[17:19]))
    except ValueError:
        return False
    return True


def _is_date(v):
    if not isinstance(v, str) or not _DATE.fullmatch(v):
        return False
    try:
        datetime(int(v[:4]), int(v[5:7]), int(v[8:10]))
    except ValueError:
        return False
    return True


def _is_int(v, lo):
    return type(v) is int and v >= lo


def _text(v):
    return isinstance(v, str) and bool(v.strip())


def _m(p, v):
    return isinstance(v, str) and p.fullmatch(v) is not None


def _key_record(r, w):
    _need(isinstance(r, dict) and set(r) == {"name", "department", "role", "alg", "public_key"},
          f"{w}: bad key record")
    _need(_m(_KNAME, r["name"]) and _m(_DEPT, r["department"]), f"{w}: bad key name or department")
    _need(r["role"] in ("root", "head", "operator", "witness") and r["alg"] == "ed25519", f"{w}: bad role or alg")
    _need(isinstance(r["public_key"], str) and len(b64(r["public_key"], w)) == 32, f"{w}: bad public key")


def check_body(t: str, b, w: str):
    _need(isinstance(b, dict), f"{w}: body is not an object")

    def has(*names):
        for n in names:
            _need(n in b, f"{w}: missing member {n!r}")

    if t == "genesis":
        has("origin", "jurisdiction", "name", "office", "departments", "log_key", "keys")
        _need(_m(_ORIGIN, b["origin"]) and _m(_ID, b["jurisdiction"]) and _text(b["name"]), f"{w}: bad genesis")
        _need(_m(_DEPT, b["office"]) and isinstance(b["departments"], list) and b["departments"], f"{w}: bad genesis")
        ids = []
        for d in b["departments"]:
            _need(isinstance(d, dict) and "id" in d and "name" in d and _m(_DEPT, d["id"]) and _text(d["name"]),
                  f"{w}: bad department")
            ids.append(d["id"])
        _need(len(set(ids)) == len(ids) and b["office"] in ids, f"{w}: bad departments")
        _need(isinstance(b["log_key"], str), f"{w}: bad log key")
        name, alg, _ = parse_vkey(b["log_key"])
        _need(alg == 1, f"{w}: log key must be type 0x01")
        _need(isinstance(b["keys"], list), f"{w}: keys")
        for i, k in enumerate(b["keys"]):
            _key_record(k, f"{w}.keys[{i}]")
        _need(any(k["role"] == "root" and k["department"] == b["office"] for k in b["keys"]), f"{w}: no root key")
        if "settings" in b:
            _need(isinstance(b["settings"], dict) and all(_is_int(v, 0) for v in b["settings"].values()),
                  f"{w}: settings")
    elif t == "key.register":
        has("key")
        _key_record(b["key"], w)
    elif t == "key.rotate":
        has("old", "key")
        _need(_m(_KNAME, b["old"]), f"{w}: old")
        _key_record(b["key"], w)
    elif t == "key.revoke":
        has("name", "reason")
        _need(_m(_KNAME, b["name"]) and _text(b["reason"]), f"{w}: bad revoke")
        _need("compromised_since" not in b or _is_time(b["compromised_since"]), f"{w}: compromised_since")
    elif t == "items.publish":
        has("version", "published", "items")
        _need(_is_int(b["version"], 1) and _is_date(b["published"]) and _m(_BLOB, b["items"]), f"{w}: items.publish")
    elif t == "plan.publish":
        has("year", "version", "published", "tasks")
        _need(_is_int(b["year"], 2000) and _is_int(b["version"], 1) and _is_date(b["published"]), f"{w}: plan")
        _need(isinstance(b["tasks"], list), f"{w}: tasks")
        for x in b["tasks"]:
            _need(isinstance(x, dict) and {"id", "lead", "participants"} <= set(x), f"{w}: task")
            _need(_m(_ID, x["id"]) and _m(_DEPT, x["lead"]) and isinstance(x["participants"], list)
                  and all(_m(_DEPT, p) for p in x["participants"]), f"{w}: task")
        _need("plan" not in b or _m(_BLOB, b["plan"]), f"{w}: plan blob")
    elif t == "directory.snapshot":
        has("targets", "inspectors", "confirmed")
        for n in ("targets", "inspectors"):
            d = b[n]
            _need(isinstance(d, dict) and "blob" in d and "count" in d and _m(_BLOB, d["blob"])
                  and _is_int(d["count"], 0), f"{w}: {n}")
        _need(_is_date(b["confirmed"]), f"{w}: confirmed")
    elif t.startswith("draw."):
        has("task")
        _need(_m(_ID, b["task"]), f"{w}: task")
        if t == "draw.replace_inspector" and "department" in b:
            _need(_m(_DEPT, b["department"]), f"{w}: department")
    elif t in ("result.publish", "result.correct"):
        has("task", "target", "department", "version", "inspection_end", "published")
        _need(_m(_ID, b["task"]) and _text(b["target"]) and _m(_DEPT, b["department"]), f"{w}: result")
        _need(_is_date(b["inspection_end"]) and _is_date(b["published"]), f"{w}: result dates")
        if t == "result.correct":
            has("reason")
            _need(_is_int(b["version"], 2) and _text(b["reason"]), f"{w}: correction")
        else:
            _need(b["version"] == 1 and type(b["version"]) is int, f"{w}: version must be 1")
    elif t == "checkpoint.witness":
        has("checkpoint", "cosignatures")
        _need(_text(b["checkpoint"]) and isinstance(b["cosignatures"], list) and b["cosignatures"]
              and all(_text(x) for x in b["cosignatures"]), f"{w}: witness")


def parse_entry(raw: bytes, seq: int):
    w = f"entry {seq}"
    _need(len(raw) <= MAX_ENTRY, f"{w}: larger than 16 KiB")
    try:
        o = canonical_decode(raw)
    except Bad as exc:
        raise Bad(f"{w}: {exc}") from None
    _need(isinstance(o, dict) and set(o) == {"body", "prev", "seq", "sig", "signer", "time", "type", "v"},
          f"{w}: wrong members")
    _need(o["v"] == 1 and type(o["v"]) is int, f"{w}: v")
    _need(_is_int(o["seq"], 0) and _m(_HEX64, o["prev"]) and _is_time(o["time"]), f"{w}: seq/prev/time")
    _need(o["type"] in SIGNER and _m(_KNAME, o["signer"]) and _m(_SIG, o["sig"]), f"{w}: type/signer/sig")
    check_body(o["type"], o["body"], w)
    o["_sig"] = b64(o["sig"], f"{w}.sig")
    unsigned = {k: v for k, v in o.items() if k not in ("sig", "_sig")}
    o["_msg"] = jcs(unsigned).encode("utf-8")
    o["_hash"] = hashlib.sha256(raw).hexdigest()
    return o


def blob_refs(v):
    if isinstance(v, str):
        if _BLOB.fullmatch(v):
            yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from blob_refs(x)
    elif isinstance(v, list):
        for x in v:
            yield from blob_refs(x)


# ----------------------------------------------------------------------------- verification

# drand chains whose round times the order rules use (docs/spec/draw.md; quicknet genesis and period)
# (sunshine.beacon: QUICKNET, and TEST_CHAIN whose secret key is public and which shares quicknet's timing)
ROUND_TIMING = {
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971": (1692803367, 3),  # drand quicknet
    "fc44c7a82582106d1374c882fea1d280fba6c029d13916a2564e79148afb7bca": (1692803367, 3),  # sunshine test chain
}


class Report:
    def __init__(self):
        self.findings = []  # (kind, seq, message)
        self.notices = []  # what was not checked, and why
        self.tasks = {}  # task id -> what the draw check found, in plain words
        self.origin, self.size = "", 0

    def add(self, kind, seq, msg):
        self.findings.append((kind, seq, msg))

    @property
    def exit_code(self):
        if any(k == "integrity" for k, _, _ in self.findings):
            return 4
        return 3 if self.findings else 0


def _round_time(body):
    rnd = body.get("randomness") if isinstance(body, dict) else None
    d = rnd.get("drand") if isinstance(rnd, dict) else None
    if isinstance(d, dict) and d.get("chain") in ROUND_TIMING and type(d.get("round")) is int and d["round"] >= 1:
        g, p = ROUND_TIMING[d["chain"]]
        t = g + (d["round"] - 1) * p
        return d["round"], datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def verify(files: dict, listing, vkey: str | None, rep: Report, allow_test_chain: bool = False,
           recompute: bool = True, openings=None):
    # -- layer 1
    cp = files.get("checkpoint")
    if cp is None:
        raise Bad("checkpoint: missing")
    text, _ = parse_note(cp)
    origin, size, root = parse_checkpoint(text)
    rep.origin, rep.size = origin, size
    tree, raws = Tree(), []
    for k in range((size + TILE - 1) // TILE):
        w = min(TILE, size - k * TILE)
        p = tile_path("entries", k, w)
        data = files.get(p)
        if data is None:
            raise Bad(f"{p}: missing")
        bundle = decode_bundle(data)
        _need(len(bundle) == w, f"{p}: wrong number of entries")
        for raw in bundle:
            tree.append(leaf_hash(raw))
        raws.extend(bundle)
    _need(tree.root_at(size) == root, "Merkle root of the entries does not match the checkpoint")
    expected = {}
    for L in range(len(tree.levels)):
        n = size // TILE ** L
        for j in range((n + TILE - 1) // TILE):
            end = min(n, (j + 1) * TILE)
            expected[tile_path(L, j, end - j * TILE)] = b"".join(tree.levels[L][j * TILE:end])
    for p, want in expected.items():
        _need(files.get(p) == want, f"{p}: missing or does not match the entries")
    if vkey is None:
        g = parse_entry(raws[0], 0) if raws else None
        _need(g is not None and g["type"] == "genesis", "entry 0 is not a genesis entry")
        vkey = g["body"]["log_key"]
    name, alg, pub = parse_vkey(vkey)
    _need(alg == 1, "the log key must be an Ed25519 (0x01) key")
    open_note(cp, name, pub)
    for p in listing:
        if not p.startswith("tile/") or p in expected:
            continue
        t = parse_tile_path(p)
        if t is None:
            continue
        lvl, idx, w = t
        span = 1 if lvl == "entries" else TILE ** int(lvl)
        if (idx * TILE + w) * span > size:
            continue  # beyond the checkpoint: an unacknowledged torn write
        if lvl == "entries":
            ok = decode_bundle(files[p]) == raws[idx * TILE: idx * TILE + w]
        else:
            ok = files[p] == b"".join(tree.levels[int(lvl)][idx * TILE: idx * TILE + w])
        _need(ok, f"{p}: superseded partial tile does not match the log")

    # -- layer 2
    entries = [parse_entry(raw, i) for i, raw in enumerate(raws)]
    keys, depts, tasks, office, head, last = {}, set(), {}, None, ZERO, None
    log_name = log_pub = None
    for i, e in enumerate(entries):
        s, b, t = e["seq"], e["body"], e["type"]
        _need(s == i, f"entry {i}: expected seq {i}, got {s}")
        _need(e["prev"] == head, f"entry {s}: hash chain broken")
        _need((s == 0) == (t == "genesis"), f"entry {s}: genesis only at seq 0")
        msg = DOMAIN + origin.encode() + b"\n" + e["_msg"]

        def pol(m, s=s):
            rep.add("policy", s, m)

        if t == "genesis":
            _need(b["origin"] == origin, "entry 0: origin differs from the checkpoint's")
            gname, _, gpub = parse_vkey(b["log_key"])
            _need(e["signer"] == gname, "entry 0: not signed by the log key")
            _need(ed_verify(gpub, e["_sig"], msg), "entry 0: signature does not verify")
            if vkey != b["log_key"]:
                raise Bad("the genesis entry names another log key than the pinned one")
            office, depts, log_name, log_pub = b["office"], {d["id"] for d in b["departments"]}, gname, gpub
            for r in b["keys"]:
                keys.setdefault(r["name"], dict(r, pub=b64(r["public_key"], "key"), since=e["time"], until=None,
                                                status="active", compromised=None))
        else:
            if last is not None and e["time"] < last:
                pol(f"time {e['time']} is before the previous entry's time {last}")
            k = keys.get(e["signer"])
            if k is None:
                if e["signer"] == log_name:
                    _need(ed_verify(log_pub, e["_sig"], msg), f"entry {s}: signature by the log key does not verify")
                    pol(f"{t} signed by the log key, which may sign only the genesis entry")
                    head, last = e["_hash"], max(last or e["time"], e["time"])
                    continue
                raise Bad(f"entry {s}: signed by {e['signer']!r}, which is not a registered key")
            _need(ed_verify(k["pub"], e["_sig"], msg), f"entry {s}: signature by {e['signer']!r} does not verify")
            if k["role"] == "witness":
                pol("signed by a witness key")
            if e["time"] < k["since"]:
                pol("signed before the key was valid")
            if k["until"] is not None and e["time"] >= k["until"]:
                pol(f"signed by {k['name']!r}, {k['status']} at {k['until']}")
            if k["compromised"] is not None and e["time"] >= k["compromised"]:
                pol("signed by a key reported compromised")
            rule, roles = SIGNER[t], ("head", "operator")
            if rule == "root":
                if not (k["role"] == "root" and k["department"] == office):
                    pol(f"{t} must be signed by a root key of the office")
            else:
                want = None
                if rule == "office":
                    want = {office}
                elif rule in ("lead", "lead_or_office", "task_department"):
                    task = tasks.get(b["task"])
                    if task is None:
                        pol(f"{t} for task {b['task']!r}, which no published plan contains")
                    else:
                        want = {task[0]} | ({office} if rule == "lead_or_office" else set())
                        if rule == "task_department":
                            want = {task[0], *task[1]}
                            if "department" in b:
                                if b["department"] not in want:
                                    pol(f"{t}: department not in the task")
                                    want = None
                                else:
                                    want = {b["department"]}
                else:
                    want = {b["department"]}
                    if rule == "result_head":
                        roles = ("head",)
                if want is not None and not (k["department"] in want and k["role"] in roles):
                    pol(f"{t} signed by {k['name']!r} ({k['department']}, {k['role']}), not allowed")
            # body rules and state
            if t in ("key.register", "key.rotate"):
                r = b["key"]
                if r["name"] in keys or r["name"] == log_name:
                    pol(f"key name {r['name']!r} is already used")
                if r["role"] != "witness" and r["department"] not in depts:
                    pol(f"key {r['name']!r}: unknown department")
                if r["role"] == "root" and r["department"] != office:
                    pol("a root key must belong to the office")
            if t == "key.rotate":
                old = keys.get(b["old"])
                if old is None or old["status"] != "active":
                    pol("key.rotate: not an active key")
                elif (old["department"], old["role"]) != (b["key"]["department"], b["key"]["role"]):
                    pol("key.rotate: the new key must keep department and role")
                else:
                    old.update(status="rotated", until=e["time"])
            if t == "key.revoke":
                old = keys.get(b["name"])
                if old is None or old["status"] != "active":
                    pol("key.revoke: not an active key")
                elif old["role"] == "root":
                    pol("key.revoke: a root key is rotated, not revoked")
                    old.update(status="revoked", until=e["time"], compromised=b.get("compromised_since"))
                else:
                    old.update(status="revoked", until=e["time"], compromised=b.get("compromised_since"))
                if "compromised_since" in b and b["compromised_since"] > e["time"]:
                    pol("key.revoke: compromised_since is after the revocation")
            if t in ("key.register", "key.rotate"):
                r = b["key"]
                keys.setdefault(r["name"], dict(r, pub=b64(r["public_key"], "key"), since=e["time"], until=None,
                                                status="active", compromised=None))
            if t == "plan.publish":
                for x in b["tasks"]:
                    for d in (x["lead"], *x["participants"]):
                        if d not in depts:
                            pol(f"plan.publish: unknown department {d!r}")
                    tasks[x["id"]] = (x["lead"], list(x["participants"]))
            if t in ("result.publish", "result.correct", "draw.replace_inspector") and "department" in b:
                if b["department"] not in depts:
                    pol(f"{t}: unknown department")
        head = e["_hash"]
        last = e["time"] if last is None else max(last, e["time"])

    seen = set()
    for e in entries:
        for ref in blob_refs(e["body"]):
            if ref in seen:
                continue
            data = files.get("blob/sha256/" + ref[7:])
            if data is None and e["type"] == "draw.lock" and e["body"].get("outcome") == ref:
                continue  # a no-notice task's outcome may be withheld until its list reveal (checked below)
            seen.add(ref)
            _need(data is not None and hashlib.sha256(data).hexdigest() == ref[7:], f"blob {ref}: missing or damaged")
    for p in listing:
        m = re.fullmatch(r"blob/sha256/([0-9a-f]{64})", p)
        if m:
            _need(hashlib.sha256(files[p]).hexdigest() == m.group(1), f"{p}: content does not match its hash")

    witnesses = {n: k for n, k in keys.items() if k["role"] == "witness"}
    for e in entries:
        if e["type"] != "checkpoint.witness":
            continue
        wtext = e["body"]["checkpoint"].encode()
        wo, ws, wr = parse_checkpoint(wtext)
        _need(wo == origin and ws <= e["seq"] and tree.root_at(ws) == wr,
              f"entry {e['seq']}: cosigned checkpoint is not of this log")
        _, sigs = parse_note(wtext + b"\n" + "\n".join(e["body"]["cosignatures"]).encode() + b"\n")
        for n, kid, sig in sigs:
            k = witnesses.get(n)
            if k is None:
                rep.add("policy", e["seq"], f"{n!r} is not a registered witness key")
                continue
            _need(kid == key_id(n, b"\x04" + k["pub"]) and len(sig) == 72,
                  f"entry {e['seq']}: cosignature by {n!r} malformed")
            (ts,) = struct.unpack(">Q", sig[:8])
            cmsg = b"cosignature/v1\ntime %d\n" % ts + wtext
            _need(ed_verify(k["pub"], sig[8:], cmsg), f"entry {e['seq']}: cosignature by {n!r} does not verify")

    # -- layer 3: order rules (spec §13; docs/spec/draw.md §10)
    st = {}
    results = {}
    for e in entries:
        t, b, s = e["type"], e["body"], e["seq"]
        if t.startswith("draw."):
            d = st.setdefault(b["task"], {"task": b["task"], "state": "planned", "commit": None, "voided": [],
                                          "reveal": False, "randomness": None, "lock": None, "reveal_entry": None,
                                          "replacements": []})
            cur = d["state"]
            task = b["task"]
            if t == "draw.commit":
                if cur not in ("planned", "voided"):
                    rep.add("policy", s, f"task {task}: a second commitment while one is live")
                rt = _round_time(b)
                if rt is not None:
                    if e["time"] >= rt[1]:
                        rep.add("policy", s, f"task {task}: the commitment names a past drand round")
                    old = _round_time(d["voided"][-1]["body"]) if d["voided"] else None
                    if old is not None and rt[0] <= old[0]:
                        rep.add("policy", s, f"task {task}: after a void the new commitment must name a later round")
                d.update(state="committed", commit=e, reveal=False, lock=None, randomness=None, reveal_entry=None,
                         replacements=[])
            elif t == "draw.void":
                if cur != "committed":
                    rep.add("policy", s, f"task {task}: void in state {cur}")
                elif d["commit"] is not None:
                    d["voided"].append(d["commit"])
                d["state"] = "voided"
            elif t == "draw.randomness":
                if cur != "committed":
                    rep.add("policy", s, f"task {task}: randomness in state {cur}")
                elif d["commit"] is not None:
                    if e["time"] <= d["commit"]["time"]:
                        rep.add("policy", s, f"task {task}: randomness not after the commitment")
                    rt = _round_time(d["commit"]["body"])
                    if rt is not None and e["time"] < rt[1]:
                        rep.add("policy", s, f"task {task}: randomness before the drand round exists")
                d.update(state="randomness", randomness=e)
            elif t == "draw.lock":
                if cur != "randomness":
                    rep.add("policy", s, f"task {task}: lock in state {cur}")
                d.update(state="locked", lock=e)
            elif t == "draw.dispatch":
                if cur != "locked":
                    rep.add("policy", s, f"task {task}: dispatch in state {cur}")
                else:
                    d["state"] = "dispatched"
            elif t == "draw.list_reveal":
                if cur not in ("locked", "dispatched"):
                    rep.add("policy", s, f"task {task}: list reveal in state {cur}")
                elif d["reveal"]:
                    rep.add("policy", s, f"task {task}: the list was already revealed")
                if d["reveal_entry"] is None:
                    d["reveal_entry"] = e
                d["reveal"] = True
            else:
                if cur not in ("locked", "dispatched"):
                    rep.add("policy", s, f"task {task}: {t} before the lock")
                if t in ("draw.replace_target", "draw.replace_inspector"):
                    d["replacements"].append(e)
        elif t in ("result.publish", "result.correct"):
            key = (b["task"], b["target"], b["department"])
            have = results.get(key)
            if t == "result.publish":
                if have is not None:
                    rep.add("policy", s, "result published again")
                if st.get(b["task"], {}).get("state") not in ("locked", "dispatched"):
                    rep.add("policy", s, f"result for task {b['task']} before its draw was locked")
                results[key] = max(have or 0, 1)
            else:
                if have is None:
                    rep.add("policy", s, "correction of a result that was never published")
                elif b["version"] != have + 1:
                    rep.add("policy", s, f"correction version: expected {have + 1}, got {b['version']}")
                results[key] = max(have or 0, b["version"])
    # a lock's outcome document is withheld only for a no-notice task, until its list reveal
    for task, d in st.items():
        lock = d.get("lock")
        if lock is None or not isinstance(lock["body"].get("outcome"), str):
            continue
        commit = d.get("commit")
        if commit is not None and commit["body"].get("notice") == "no_notice" and not d["reveal"]:
            continue
        ref = lock["body"]["outcome"]
        data = files.get("blob/sha256/" + ref[7:]) if ref.startswith("sha256:") else None
        _need(data is not None and hashlib.sha256(data).hexdigest() == ref[7:],
              f"task {task}: the lock's outcome document {ref} is not published")

    # -- layer 3: every locked draw recomputed from its commitment and randomness (docs/spec/draw.md)
    def get_blob(ref):
        return files.get("blob/sha256/" + ref[7:])

    for task, d in sorted(st.items()):
        if d["lock"] is None or d["commit"] is None or d["randomness"] is None:
            rep.tasks[task] = f"not locked (state {d['state']})"
        elif not recompute:
            rep.tasks[task] = "draw not recomputed (switched off)"
        else:
            try:
                rep.tasks[task] = recompute_task(d, get_blob, allow_test_chain, rep, openings)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                rep.add("policy", d["lock"]["seq"], f"task {task}: the draw cannot be recomputed: malformed draw "
                                                    f"data ({type(exc).__name__}: {exc})")
                rep.tasks[task] = "the draw cannot be recomputed"


# ----------------------------------------------------------------------------- the draw (docs/spec/draw.md)

ALG = "sunshine.draw/v1"
QUICKNET_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
TEST_CHAIN_HASH = "fc44c7a82582106d1374c882fea1d280fba6c029d13916a2564e79148afb7bca"
# pinned in code, never taken from the data (draw.md §3.1)
CHAIN_KEYS = {
    QUICKNET_HASH: bytes.fromhex(
        "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d"
        "1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"),
    TEST_CHAIN_HASH: bytes.fromhex(
        "b03505cc1d1043372669c7923d0100936b42ac6d58a1daa63d2f7b574f88330cc12a87f29654f8d8b5f9586691aac025"
        "017e2b5da62b1395264ba3471c2b20d7934860773458588f581549546bf2b23644e17f0171fde719893a23dd00041661"),
}
BLS_DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
_LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_RATIO = re.compile(r"(0|[1-9][0-9]*)/([1-9][0-9]*)")
_HEX96 = re.compile(r"[0-9a-f]{96}")
TARGET_REASONS = ("deregistered", "revoked", "moved_out", "not_in_scope")
INSPECTOR_REASONS = ("post_change", "work_conflict", "health", "recusal")
TWO64 = 1 << 64


class DrawFail(Exception):
    """The draw cannot be recomputed: kind "integrity" (tamper evidence) or "policy" (a broken rule)."""

    def __init__(self, msg, kind="policy"):
        super().__init__(msg)
        self.kind = kind


def frame(*parts) -> bytes:
    """draw.md §2: each part as a 4-byte big-endian length and its (UTF-8) bytes."""
    out = bytearray()
    for p in parts:
        if isinstance(p, str):
            p = p.encode("utf-8")
        out += struct.pack(">I", len(p)) + p
    return bytes(out)


def body_hash(b) -> str:
    return hashlib.sha256(jcs(b).encode("utf-8")).hexdigest()


def _f(obj, key, kind, what):
    """obj[key], of the expected JSON type (policy finding otherwise)."""
    if not isinstance(obj, dict) or key not in obj:
        raise DrawFail(f"{what}: missing field {key!r}")
    v = obj[key]
    ok = type(v) is int if kind is int else isinstance(v, kind) and not isinstance(v, bool)
    if not ok:
        raise DrawFail(f"{what}, field {key!r}: expected {kind.__name__}, got {v!r}")
    return v


def _blob(get_blob, ref, what) -> bytes:
    if not isinstance(ref, str) or not _BLOB.fullmatch(ref):
        raise DrawFail(f"{what}: expected a blob reference 'sha256:<64 hex>', got {ref!r}")
    data = get_blob(ref)
    if data is None:
        raise DrawFail(f"{what}: blob {ref} is not available")
    if hashlib.sha256(data).hexdigest() != ref[7:]:
        raise DrawFail(f"{what}: blob content does not match its address {ref}", "integrity")
    return data


def _json_blob(get_blob, ref, what):
    try:
        return canonical_decode(_blob(get_blob, ref, what))
    except Bad as exc:
        raise DrawFail(f"{what}: {exc}") from None


def _labels(get_blob, ref, what) -> list:
    v = _json_blob(get_blob, ref, what)
    if not isinstance(v, list) or not all(isinstance(x, str) and _LABEL.fullmatch(x) for x in v):
        raise DrawFail(f"{what}: expected a JSON array of labels")
    for i in range(1, len(v)):
        if v[i] <= v[i - 1]:
            raise DrawFail(f"{what}[{i}]: expected labels in strictly ascending order, got {v[i]!r} after {v[i - 1]!r}")
    return v


def sample_size(size: int, p: int, q: int, minimum: int) -> int:
    """draw.md §4: min(N, max(minimum, ceil(N·p/q))) in integers."""
    return min(size, max(minimum, -(-size * p // q)))


def load_commit(b: dict, get_blob) -> dict:
    """Check a draw.commit body (draw.md §4) and load its blobs."""
    w = "draw.commit"
    allowed = {"algorithm", "task", "year", "items", "lead", "participants", "notice", "draw_date", "pool",
               "exclusions", "cap_overrides", "strata", "sealed", "inspectors", "team", "randomness"}
    if set(b) - allowed:
        raise DrawFail(f"{w}: unexpected field(s) {', '.join(sorted(set(b) - allowed))}")
    if _f(b, "algorithm", str, w) != ALG:
        raise DrawFail(f"{w}: expected algorithm {ALG!r}, got {b['algorithm']!r}")
    _f(b, "year", int, w), _f(b, "draw_date", str, w), _f(b, "cap_overrides", list, w)
    if not all(isinstance(x, str) for x in _f(b, "items", list, w)):
        raise DrawFail(f"{w}, field 'items': expected a list of item ids")
    task, lead = _f(b, "task", str, w), _f(b, "lead", str, w)
    parts = _f(b, "participants", list, w)
    if not all(_m(_ID, x) for x in [task, lead, *parts]) or lead in parts or len(set(parts)) != len(parts):
        raise DrawFail(f"{w}: expected ids and distinct participants other than the lead, got {lead!r}, {parts!r}")
    if _f(b, "notice", str, w) not in ("notified", "no_notice"):
        raise DrawFail(f"{w}, field 'notice': expected notified or no_notice, got {b['notice']!r}")
    pool = _f(b, "pool", dict, w)
    labels = _labels(get_blob, _f(pool, "labels", str, f"{w}.pool"), f"{w}.pool.labels")
    if len(labels) != _f(pool, "size", int, f"{w}.pool"):
        raise DrawFail(f"{w}.pool: expected {pool['size']} labels (pool.size), got {len(labels)}", "integrity")
    root = mth([leaf_hash(x.encode()) for x in labels]).hex()
    if root != _f(pool, "root", str, f"{w}.pool"):
        raise DrawFail(f"{w}.pool: the Merkle root of the labels is {root}, but the commitment says {pool['root']}",
                       "integrity")
    pset = set(labels)
    ex = _f(b, "exclusions", dict, w)
    exl = _json_blob(get_blob, _f(ex, "list", str, f"{w}.exclusions"), f"{w}.exclusions.list")
    if not isinstance(exl, list) or len(exl) != _f(ex, "count", int, f"{w}.exclusions"):
        raise DrawFail(f"{w}.exclusions: expected a list of exactly 'count' exclusions")
    for i, x in enumerate(exl):
        _f(x, "reason", str, f"exclusions[{i}]")
        if _f(x, "label", str, f"exclusions[{i}]") in pset:
            raise DrawFail(f"exclusions[{i}]: {x['label']} is both excluded and in the pool")
    sealed = b.get("sealed")
    strata, members, total = [], {}, 0
    for i, s in enumerate(_f(b, "strata", list, w)):
        sw = f"{w}.strata[{i}]"
        sid = _f(s, "id", str, sw)
        if not _m(_ID, sid) or any(x["id"] == sid for x in strata):
            raise DrawFail(f"{sw}: bad or duplicate stratum id {sid!r}")
        _f(s, "label", str, sw)
        m = _RATIO.fullmatch(_f(s, "ratio", str, sw))
        p, q = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
        from math import gcd
        if not m or p == 0 or p > q or gcd(p, q) != 1:
            raise DrawFail(f"{sw}, field 'ratio': expected a ratio 'p/q' in lowest terms between 0 and 1, got {s['ratio']!r}")
        size, minimum, sample = _f(s, "size", int, sw), _f(s, "minimum", int, sw), _f(s, "sample", int, sw)
        if size < 0 or minimum < 0:
            raise DrawFail(f"{sw}: expected non-negative size and minimum")
        want = sample_size(size, p, q, minimum)
        if sample != want:
            raise DrawFail(f"{sw} ({sid}): expected sample = min(N, max(minimum, ceil(N·ratio))) = {want} for "
                           f"N = {size}, ratio {s['ratio']}, minimum {minimum}; got {sample}")
        if sealed is None:
            ms = _labels(get_blob, _f(s, "members", str, sw), f"{sw}.members")
            if len(ms) != size:
                raise DrawFail(f"{sw} ({sid}): expected {size} members (size), got {len(ms)}", "integrity")
            members[sid] = ms
        elif "members" in s:
            raise DrawFail(f"{sw}: a sealed stratum must not publish its members")
        total += size
        strata.append({"id": sid, "size": size, "sample": sample})
    if not strata:
        raise DrawFail(f"{w}.strata: expected at least one stratum")
    if total != len(labels):
        raise DrawFail(f"{w}.strata: the stratum sizes add up to {total}, but the pool has {len(labels)} members",
                       "integrity")
    if sealed is None:
        union = set().union(*members.values())
        if union != pset:
            raise DrawFail(f"{w}.strata: the strata do not partition the pool", "integrity")
    else:
        coms = _json_blob(get_blob, _f(sealed, "commitments", str, f"{w}.sealed"), f"{w}.sealed.commitments")
        if not isinstance(coms, list) or len(coms) != len(labels) or not all(_m(_HEX64, c) for c in coms):
            raise DrawFail(f"{w}.sealed.commitments: expected {len(labels)} hex SHA-256 commitments, one per pool label")
        members = None
    depts = (lead, *parts)
    ins = _f(b, "inspectors", dict, w)
    recs = _json_blob(get_blob, _f(ins, "list", str, f"{w}.inspectors"), f"{w}.inspectors.list")
    if not isinstance(recs, list) or len(recs) != _f(ins, "count", int, f"{w}.inspectors"):
        raise DrawFail(f"inspectors: expected a list of {ins['count']} inspector records")
    prev = None
    for i, r in enumerate(recs):
        iw = f"inspectors[{i}]"
        if not isinstance(r, dict) or set(r) != {"id", "department", "kind", "capacity", "qualifications", "conflicts"}:
            raise DrawFail(f"{iw}: expected exactly id, department, kind, capacity, qualifications, conflicts")
        if not _m(_ID, r["id"]) or (prev is not None and r["id"] <= prev):
            raise DrawFail(f"{iw}: expected inspectors sorted by id, got {r['id']!r} after {prev!r}")
        prev = r["id"]
        if r["department"] not in depts or r["kind"] not in ("officer", "expert"):
            raise DrawFail(f"{iw}: department {r['department']!r} or kind {r['kind']!r} not allowed")
        if type(r["capacity"]) is not int or r["capacity"] < 1:
            raise DrawFail(f"{iw}, field 'capacity': expected an integer >= 1")
        for k in ("qualifications", "conflicts"):
            v = r[k]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v) or v != sorted(set(v)):
                raise DrawFail(f"{iw}, field {k!r}: expected sorted unique strings")
    team = _f(b, "team", dict, w)
    for k in ("min_officers", "per_department", "experts"):
        if _f(team, k, int, f"{w}.team") < 0:
            raise DrawFail(f"{w}.team, field {k!r}: expected a non-negative integer")
    if team["per_department"] < 1:
        raise DrawFail(f"{w}.team, field 'per_department': expected at least 1")
    quals = _f(team, "qualifications", list, f"{w}.team")
    if not all(isinstance(x, str) for x in quals) or quals != sorted(set(quals)):
        raise DrawFail(f"{w}.team.qualifications: expected sorted unique strings")
    rnd = _f(b, "randomness", dict, w)
    drand = None
    if not ("drand" in rnd and rnd["drand"] is None):
        d = _f(rnd, "drand", dict, f"{w}.randomness")
        chain = _f(d, "chain", str, f"{w}.randomness.drand")
        if chain not in CHAIN_KEYS:
            raise DrawFail(f"unknown drand chain: expected {QUICKNET_HASH} (quicknet), got {chain!r}", "integrity")
        if _f(d, "public_key", str, f"{w}.randomness.drand") != CHAIN_KEYS[chain].hex():
            raise DrawFail(f"{w}.randomness.drand: the public key is not the pinned key of chain {chain}", "integrity")
        if _f(d, "round", int, f"{w}.randomness.drand") < 1:
            raise DrawFail(f"{w}.randomness.drand, field 'round': expected >= 1")
        drand = (chain, d["round"])
    lots = [_f(x, "name", str, f"{w}.randomness.lotteries[{i}]")
            for i, x in enumerate(_f(rnd, "lotteries", list, f"{w}.randomness"))]
    if len(set(lots)) != len(lots):
        raise DrawFail(f"{w}.randomness.lotteries: expected distinct names")
    contribs = []
    for i, c in enumerate(_f(rnd, "contributions", list, f"{w}.randomness")):
        cw = f"{w}.randomness.contributions[{i}]"
        dept, com, mode = _f(c, "department", str, cw), _f(c, "commitment", str, cw), _f(c, "reveal", str, cw)
        if dept not in depts or not _m(_HEX64, com) or mode not in ("with_randomness", "with_list"):
            raise DrawFail(f"{cw}: expected a task department, a 64-hex commitment and a reveal mode")
        contribs.append((dept, com, mode))
    if len({c[0] for c in contribs}) != len(contribs):
        raise DrawFail(f"{w}.randomness.contributions: at most one contribution per department")
    if drand is None and not contribs:
        raise DrawFail(f"{w}.randomness: a draw without a drand round needs at least one department contribution")
    if b["notice"] == "no_notice" and not any(c[2] == "with_list" for c in contribs):
        raise DrawFail(f"{w}: a no-notice task needs a contribution revealed with the list")
    return {"body": b, "task": task, "lead": lead, "participants": tuple(parts), "labels": labels,
            "strata": strata, "members": members, "sealed": sealed is not None,
            "sealed_commitments": coms if sealed is not None else None, "inspectors": recs, "team": team,
            "drand": drand, "lotteries": lots, "contributions": contribs}


_PY_ECC = None


def bls_verify(pub: bytes, round_: int, sig: bytes):
    """True/False: the drand BLS signature check (draw.md §3.1); None when py_ecc is not installed."""
    global _PY_ECC
    if _PY_ECC is None:
        limit = sys.getrecursionlimit()
        try:  # py_ecc raises the recursion limit to 100,000 on import; restore it (deep JSON would segfault)
            import py_ecc  # noqa: F401
            from py_ecc.bls.g2_primitives import subgroup_check
            from py_ecc.bls.hash_to_curve import hash_to_G1
            from py_ecc.bls.point_compression import decompress_G1, decompress_G2
            from py_ecc.optimized_bls12_381 import FQ12, G2, final_exponentiate, is_inf, neg
            from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop
            _PY_ECC = locals().copy()
        except ImportError:
            _PY_ECC = False
        finally:
            sys.setrecursionlimit(limit)
    if _PY_ECC is False:
        return None
    key = (pub, round_, sig)
    if key not in _BLS_DONE:
        _BLS_DONE[key] = _bls_pairing_check(_PY_ECC, pub, round_, sig)
    return _BLS_DONE[key]


_BLS_DONE = {}  # (public key, round, signature) -> bool: each beacon is paired once per run


def _bls_pairing_check(e, pub, round_, sig) -> bool:
    """e(sig, g2) == e(hash_to_G1(SHA-256(round)), pk), sig in the prime-order subgroup, not the identity."""
    pk = e["decompress_G2"]((int.from_bytes(pub[:48], "big"), int.from_bytes(pub[48:], "big")))
    try:
        s = e["decompress_G1"](int.from_bytes(sig, "big"))
    except ValueError:
        return False
    if e["is_inf"](s) or not e["subgroup_check"](s):
        return False
    h = e["hash_to_G1"](hashlib.sha256(struct.pack(">Q", round_)).digest(), BLS_DST, hashlib.sha256)
    return e["final_exponentiate"](e["miller_loop"](e["G2"], s) * e["miller_loop"](e["neg"](pk), h)) == e["FQ12"].one()


def _beacon(text, chain, round_, allow_test_chain, notices, task):
    """draw.md §3.1: parse the verbatim beacon JSON, verify it, return SHA-256(signature)."""
    w = "draw.randomness.drand.beacon"
    try:
        o = json.loads(text, object_pairs_hook=_pairs, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, Bad, RecursionError) as exc:
        raise DrawFail(f"{w}: expected a beacon JSON object, got invalid JSON ({exc})") from None
    if not isinstance(o, dict) or set(o) - {"round", "signature", "randomness"}:
        raise DrawFail(f"{w}: expected only round, signature and randomness")
    if type(o.get("round")) is not int or o["round"] != round_:
        raise DrawFail(f"draw.randomness.drand: expected round {round_} (named in the commitment), "
                       f"got round {o.get('round')!r}", "integrity")
    if not _m(_HEX96, o.get("signature")):
        raise DrawFail(f"{w}, field 'signature': expected 96 lowercase hex digits")
    sig = bytes.fromhex(o["signature"])
    randomness = hashlib.sha256(sig).digest()
    if "randomness" in o and o["randomness"] != randomness.hex():
        raise DrawFail(f"{w}, field 'randomness': expected SHA-256(signature) = {randomness.hex()}, "
                       f"got {o['randomness']!r}", "integrity")
    if chain == TEST_CHAIN_HASH and not allow_test_chain:
        raise DrawFail(f"beacon round {round_} is from the test chain {chain}, not drand quicknet "
                       "(its secret key is public; pass --allow-test-chain for the sample data only)", "integrity")
    ok = bls_verify(CHAIN_KEYS[chain], round_, sig)
    if ok is None:
        notices.append(f"task {task}: the BLS signature of drand round {round_} was NOT checked (py_ecc is not "
                       "installed; hint: pip install py_ecc); the draw was recomputed from its randomness")
    elif not ok:
        raise DrawFail(f"beacon round {round_}: the BLS signature does not verify under the pinned public key "
                       f"(chain {chain})", "integrity")
    return randomness


def lottery_string(groups, where) -> bytes:
    """draw.md §3.2: RFC 3797 §4 style, each group sorted, 'n.' per number, '/' per group."""
    if not isinstance(groups, list) or not groups:
        raise DrawFail(f"{where}: expected a non-empty list of number groups")
    out = []
    for g in groups:
        if not isinstance(g, list) or not g or not all(type(n) is int and n >= 0 for n in g):
            raise DrawFail(f"{where}: expected non-empty lists of non-negative integers, got {g!r}")
        out.append("".join(f"{n}." for n in sorted(g)) + "/")
    return "".join(out).encode("ascii")


def load_randomness(c, b, reveal, allow_test_chain, notices) -> bytes:
    """Check draw.randomness (and the list reveal) against the commitment; return the IKM (draw.md §3.4)."""
    w, task = "draw.randomness", c["task"]
    if not isinstance(b, dict) or set(b) - {"algorithm", "task", "commit", "drand", "lotteries", "contributions"}:
        raise DrawFail(f"{w}: expected an object with algorithm, task, commit, drand, lotteries, contributions")
    if _f(b, "algorithm", str, w) != ALG or _f(b, "task", str, w) != task:
        raise DrawFail(f"{w}: expected algorithm {ALG!r} and task {task!r}")
    if _f(b, "commit", str, w) != body_hash(c["body"]):
        raise DrawFail(f"{w}: refers to commitment {b['commit']}, but the task's commitment hashes to "
                       f"{body_hash(c['body'])}", "integrity")
    ikm = bytearray(frame(ALG, "ikm"))
    if c["drand"] is None:
        if "drand" not in b or b["drand"] is not None:
            raise DrawFail(f"{w}.drand: expected null (the commitment names no drand round)", "integrity")
    else:
        chain, round_ = c["drand"]
        d = _f(b, "drand", dict, w)
        if _f(d, "chain", str, f"{w}.drand") != chain:
            raise DrawFail(f"{w}.drand: expected chain {chain} (named in the commitment), got {d['chain']}", "integrity")
        if d.get("round") != round_:
            raise DrawFail(f"{w}.drand: expected round {round_} (named in the commitment), got {d.get('round')!r}",
                           "integrity")
        randomness = _beacon(_f(d, "beacon", str, f"{w}.drand"), chain, round_, allow_test_chain, notices, task)
        ikm += frame("drand", chain, str(round_), randomness)
    lots = _f(b, "lotteries", list, w)
    if [x.get("name") if isinstance(x, dict) else None for x in lots] != c["lotteries"]:
        raise DrawFail(f"{w}.lotteries: expected the lotteries named in the commitment, in order: {c['lotteries']}",
                       "integrity")
    for i, x in enumerate(lots):
        ikm += frame("lottery", x["name"], lottery_string(x.get("numbers"), f"{w}.lotteries[{i}].numbers"))
    revealed = {}
    for sw, src in ((w, b), ("draw.list_reveal", reveal)):
        if src is None:
            continue
        for i, x in enumerate(_f(src, "contributions", list, sw)):
            cw = f"{sw}.contributions[{i}]"
            dept, sec = _f(x, "department", str, cw), _f(x, "secret", str, cw)
            if not _m(_HEX64, sec):
                raise DrawFail(f"{cw}, field 'secret': expected 64 lowercase hex digits")
            if dept in revealed:
                raise DrawFail(f"{cw}: contribution of {dept!r} revealed twice")
            revealed[dept] = (sw, bytes.fromhex(sec))
    for dept, com, mode in c["contributions"]:
        where = "draw.list_reveal" if mode == "with_list" else w
        if dept not in revealed:
            raise DrawFail(f"contribution of {dept!r} has not been revealed (expected in {where})")
        got_where, secret = revealed.pop(dept)
        if got_where != where:
            raise DrawFail(f"contribution of {dept!r}: expected it revealed in {where}, got it in {got_where}")
        h = hashlib.sha256(frame(ALG, "contribution", task, dept, secret)).hexdigest()
        if h != com:
            raise DrawFail(f"contribution of {dept!r}: the revealed secret hashes to {h}, but the commitment is {com}",
                           "integrity")
        ikm += frame("contribution", dept, secret)
    if revealed:
        raise DrawFail(f"contributions revealed for departments that committed none: {sorted(revealed)}")
    return bytes(ikm)


def seed(c, ikm: bytes) -> bytes:
    """draw.md §5: salt = SHA-256(frame(ALG, "salt", task, JCS(commit))); PRK = HKDF-Extract(salt, IKM)."""
    salt = hashlib.sha256(frame(ALG, "salt", c["task"], jcs(c["body"]).encode("utf-8"))).digest()
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def tickets(prk: bytes, stratum: str, labels) -> list:
    """[(ticket, label)] with ticket = HKDF-Expand(PRK, frame("target", S, label), 32) = HMAC(PRK, info ‖ 0x01)."""
    base = hmac.new(prk, frame("target", stratum), hashlib.sha256)
    out = []
    for lb in labels:
        h = base.copy()
        e = lb.encode("utf-8")
        h.update(struct.pack(">I", len(e)) + e + b"\x01")
        out.append((h.digest(), lb))
    return out


class _Ranking:
    """A uniform permutation by a lazy Fisher–Yates shuffle (draw.md §7): for k = 0, 1, …:
    j = k + uniform(m − k), swap positions k and j, output position k. The uniform integers come from
    HMAC-SHA256(PRK, prefix ‖ uint32_be(i)) blocks, read as 8-byte big-endian words, with rejection
    sampling (draw.md §2). Only as much of the ranking is computed as is read; iterating again replays it."""

    def __init__(self, items, prk, prefix):
        self.items, self.prk, self.prefix = list(items), prk, prefix
        self.order, self.words, self.block = [], [], 0

    def _uniform(self, n):
        limit = TWO64 - TWO64 % n
        while True:
            if not self.words:
                d = hmac.new(self.prk, self.prefix + struct.pack(">I", self.block), hashlib.sha256).digest()
                self.block += 1
                self.words.extend(reversed(struct.unpack(">4Q", d)))
            x = self.words.pop()
            if x < limit:
                return x % n

    def __iter__(self):
        k = 0
        while True:
            if k == len(self.order):
                m, items = len(self.items), self.items
                if k == m:
                    return
                j = k + self._uniform(m - k)
                items[k], items[j] = items[j], items[k]
                self.order.append(items[k])
            yield self.order[k]
            k += 1


class Matcher:
    """Inspector matching (draw.md §7): rankings by a lazy Fisher–Yates shuffle, teams, replacements."""

    def __init__(self, prk, c):
        self.prk, self.lead, self.depts, self.rules = prk, c["lead"], (c["lead"], *c["participants"]), c["team"]
        recs = c["inspectors"]
        self.rec = {r["id"]: r for r in recs}
        self.left = {r["id"]: r["capacity"] for r in recs}
        self.officers = {d: [r["id"] for r in recs if r["department"] == d and r["kind"] == "officer"]
                         for d in self.depts}
        self.experts = [r["id"] for r in recs if r["kind"] == "expert"]
        self.required = set(self.rules["qualifications"])
        self.teams, self.removed, self.cache = {}, {}, {}

    def ranking(self, dept, target):
        """The ranking of dept's officers (dept None: the experts) for target, produced lazily."""
        key = (dept, target)
        if key not in self.cache:
            if len(self.cache) > 64:
                self.cache.clear()
            items = self.officers[dept] if dept is not None else self.experts
            prefix = frame("match", dept, target) if dept is not None else frame("expert", target)
            self.cache[key] = _Ranking(items, self.prk, prefix)
        return self.cache[key]

    def first(self, ranking, target, taken, leader=False):
        removed = self.removed.get(target, ())
        for i in ranking:
            r = self.rec[i]
            if (self.left[i] > 0 and i not in taken and target not in r["conflicts"] and i not in removed
                    and (not leader or self.required <= set(r["qualifications"]))):
                return i
        return None

    def assign(self, t):
        rules, lead_rank = self.rules, self.ranking(self.lead, t)
        leader = self.first(lead_rank, t, [], leader=True)
        if leader is None:
            raise DrawFail(f"target {t}: no eligible group leader in the lead department {self.lead}")
        taken = [leader]
        for d in self.depts:
            have = sum(1 for i in taken if self.rec[i]["department"] == d)
            rank = self.ranking(d, t)
            while have < rules["per_department"]:
                i = self.first(rank, t, taken)
                if i is None:
                    raise DrawFail(f"target {t}: department {d} must contribute {rules['per_department']} officer(s),"
                                   f" but only {have} eligible officer(s) are left")
                taken.append(i)
                have += 1
        while len(taken) < rules["min_officers"]:
            i = self.first(lead_rank, t, taken)
            if i is None:
                raise DrawFail(f"target {t}: expected at least {rules['min_officers']} certified officers in the group,"
                               f" got {len(taken)}")
            taken.append(i)
        experts, er = [], self.ranking(None, t)
        while len(experts) < rules["experts"]:
            i = self.first(er, t, taken + experts)
            if i is None:
                raise DrawFail(f"target {t}: expected {rules['experts']} expert(s) on top of the officers, "
                               f"got {len(experts)}")
            experts.append(i)
        for i in taken + experts:
            self.left[i] -= 1
        self.teams[t] = {"target": t, "leader": leader, "officers": taken, "experts": experts}
        return self.teams[t]

    def replace(self, t, who):
        team = self.teams.get(t)
        if team is None:
            raise DrawFail(f"target {t}: has no team to change")
        cur = team["officers"] + team["experts"]
        if who not in cur:
            raise DrawFail(f"target {t}: {who} is not a member of its team (members: {', '.join(cur)})")
        self.removed.setdefault(t, set()).add(who)
        r = self.rec[who]
        if r["kind"] == "expert":
            new = self.first(self.ranking(None, t), t, cur)
        else:
            new = self.first(self.ranking(r["department"], t), t, cur, leader=who == team["leader"])
        if new is None:
            self.removed[t].discard(who)
            raise DrawFail(f"target {t}: no eligible replacement for {who} in its ranking")
        self.left[who] += 1
        self.left[new] -= 1
        sw = [new if i == who else i for i in team["officers"]]
        self.teams[t] = {"target": t, "leader": new if team["leader"] == who else team["leader"], "officers": sw,
                         "experts": [new if i == who else i for i in team["experts"]]}
        return new

    def drop(self, t):
        team = self.teams.pop(t)
        for i in team["officers"] + team["experts"]:
            self.left[i] += 1


def compute(c, prk):
    """draw.md §6–7 for public strata: the outcome document, the queues and the matcher."""
    strata, keyed, stratum_of = [], [], {}
    for s in c["strata"]:
        k = s["sample"] + min(s["size"] - s["sample"], max(s["sample"], 10))
        head = sorted(tickets(prk, s["id"], c["members"][s["id"]]))[:k]
        sel = head[:s["sample"]]
        strata.append({"id": s["id"], "size": s["size"], "sample": s["sample"],
                       "cutoff": sel[-1][0].hex() if sel else None,
                       "selected": [lb for _, lb in sel], "queue": [lb for _, lb in head[s["sample"]:]]})
        for tk, lb in sel:
            keyed.append((tk, lb))
            stratum_of[lb] = s["id"]
    selected = [lb for _, lb in sorted(keyed)]
    m = Matcher(prk, c)
    teams = [dict(m.assign(t)) for t in selected]
    doc = {"algorithm": ALG, "task": c["task"], "seed": prk.hex(), "strata": strata, "selected": selected,
           "teams": teams}
    return doc, m, stratum_of


def describe_differences(exp: dict, got) -> list:
    """Plain-words differences between the recomputed outcome document and the published one."""
    out = []
    if not isinstance(got, dict):
        return ["the lock's outcome document is not a JSON object"]
    if got.get("seed") != exp["seed"]:
        out.append("the seed in the lock differs from the seed derived from the commitment and the randomness")
    es_ = {s["id"]: s for s in exp["strata"]}
    gs_ = {s.get("id"): s for s in got.get("strata", []) if isinstance(s, dict)} \
        if isinstance(got.get("strata"), list) else {}
    for sid, es in es_.items():
        gs = gs_.get(sid)
        if gs is None:
            out.append(f"stratum {sid}: missing from the lock")
            continue
        for k in ("size", "sample", "cutoff"):
            if gs.get(k) != es.get(k):
                out.append(f"stratum {sid}: the lock says {k} {gs.get(k)!r}, the draw gives {es.get(k)!r}")
        for k, verb in (("selected", "selects"), ("queue", "queues")):
            if k in es and gs.get(k) != es[k]:
                g = gs.get(k) if isinstance(gs.get(k), list) else []
                extra = [x for x in g if x not in set(es[k])]
                missing = [x for x in es[k] if x not in set(g)]
                if extra or missing:
                    out.append(f"stratum {sid}: the lock {verb} {', '.join(map(str, extra[:5])) or 'nothing extra'}"
                               f" instead of {', '.join(missing[:5]) or 'nothing'}")
                else:
                    out.append(f"stratum {sid}: the lock {verb} the right targets in the wrong order")
    for sid in gs_.keys() - es_.keys():
        out.append(f"stratum {sid}: in the lock but not in the commitment")
    if got.get("selected") != exp["selected"] and not any("selects" in d for d in out):
        out.append("the overall list of selected targets (in ticket order) differs")
    et_ = {t["target"]: t for t in exp["teams"]}
    gt_ = {t.get("target"): t for t in got.get("teams", []) if isinstance(t, dict)} \
        if isinstance(got.get("teams"), list) else {}
    for t, et in et_.items():
        gt = gt_.get(t)
        if gt is None:
            out.append(f"target {t}: no team in the lock")
        elif gt != et:
            for k in ("leader", "officers", "experts"):
                if gt.get(k) != et.get(k):
                    out.append(f"target {t}: the lock's {k} is {gt.get(k)!r}, the draw gives {et.get(k)!r}")
    for t in gt_.keys() - et_.keys():
        out.append(f"target {t}: the lock has a team for a target that was not drawn")
    if not out:
        out.append("the lock's outcome document differs from the recomputed one (field order, spelling or extra fields)")
    return out


def _lock_header(c, rbody, lock, count) -> list:
    diffs = []
    if lock.get("task") != c["task"]:
        diffs.append(f"the lock is for task {lock.get('task')!r}, not {c['task']!r}")
    if lock.get("algorithm") != ALG:
        diffs.append(f"the lock names algorithm {lock.get('algorithm')!r}, expected {ALG!r}")
    if lock.get("commit") != body_hash(c["body"]):
        diffs.append("the lock refers to a different commitment than the task's draw.commit entry")
    if lock.get("randomness") != body_hash(rbody):
        diffs.append("the lock refers to a different randomness reveal than the task's draw.randomness entry")
    if lock.get("selected_count") != count:
        diffs.append(f"the lock announces {lock.get('selected_count')} selected targets; the draw selects {count}")
    return diffs


def sealed_public_checks(c, prk, doc) -> list:
    """draw.md §8 without the opening file: what the public can check of a sealed draw.

    The seed; each stratum's id, size, sample and cut-off presence; the selection's size, distinctness and
    pool membership; each cut-off is the ticket (in its stratum) of a selected target; each selected target's
    ticket is within the cut-off of at least one stratum; and the teams, recomputed from the published draw
    order. Which stratum each target belongs to (and so the exact selection and queues) needs the opening file.
    """
    if not isinstance(doc, dict):
        return ["the lock's outcome document is not a JSON object"], None
    out = []
    if doc.get("seed") != prk.hex():
        out.append("the seed in the lock differs from the seed derived from the commitment and the randomness")
    got = doc.get("strata") if isinstance(doc.get("strata"), list) else []
    if [s.get("id") if isinstance(s, dict) else None for s in got] != [s["id"] for s in c["strata"]]:
        return out + ["the lock's strata are not the commitment's strata, in order"], None
    sel = doc.get("selected")
    if not isinstance(sel, list) or not all(isinstance(x, str) and _LABEL.fullmatch(x) for x in sel):
        return out + ["the lock's list of selected targets is not a list of labels"], None
    want = sum(s["sample"] for s in c["strata"])
    if len(sel) != want:
        out.append(f"the lock selects {len(sel)} targets; the strata's sample counts add up to {want}")
    if len(set(sel)) != len(sel):
        out.append("the lock selects a target twice")
    pool = set(c["labels"])
    outside = [x for x in sel if x not in pool]
    if outside:
        out.append(f"the lock selects {', '.join(outside[:5])}, not in the committed pool")
    cut = {}
    for s, g in zip(c["strata"], got):
        if set(g) != {"id", "size", "sample", "cutoff"}:
            out.append(f"stratum {s['id']}: a sealed stratum's outcome has exactly id, size, sample, cutoff")
        for k in ("size", "sample"):
            if g.get(k) != s[k]:
                out.append(f"stratum {s['id']}: the lock says {k} {g.get(k)!r}, the commitment says {s[k]!r}")
        cv = g.get("cutoff")
        if (cv is None) != (s["sample"] == 0) or (cv is not None and not _m(_HEX64, cv)):
            out.append(f"stratum {s['id']}: the lock's cutoff {cv!r} does not fit sample {s['sample']}")
            continue
        if cv is not None:
            cut[s["id"]] = cv
    if out:
        return out, None
    tk = {sid: {lb: t.hex() for t, lb in tickets(prk, sid, sel)} for sid in cut}
    for sid, cv in cut.items():
        if cv not in tk[sid].values():
            out.append(f"stratum {sid}: the cutoff {cv} is not the ticket of any selected target in that stratum")
    for x in sel:
        if not any(tk[sid][x] <= cv for sid, cv in cut.items()):
            out.append(f"target {x}: its ticket is beyond the cut-off of every stratum, so it cannot have been drawn")
    if out:
        return out, None
    m = Matcher(prk, c)
    exp_teams = [m.assign(t) for t in sel]
    teams = doc.get("teams") if isinstance(doc.get("teams"), list) else []
    if teams != exp_teams:
        exp = {"seed": prk.hex(), "strata": [], "selected": sel, "teams": exp_teams}
        out += [d for d in describe_differences(exp, {**doc, "strata": [], "seed": prk.hex()})
                if not d.startswith("the lock's outcome document differs")] or \
            ["the lock's teams differ from the teams recomputed from the published draw order"]
    set_keys = {"algorithm", "task", "seed", "strata", "selected", "teams"}
    if not out and (set(doc) != set_keys or doc["algorithm"] != ALG or doc["task"] != c["task"]):
        out.append("the lock's outcome document differs from the recomputed one (field order, spelling or extra fields)")
    return out, m


def replay(d, m, stratum_of, queues, sealed, rep) -> None:
    """draw.md §12 step 5: each replacement must be the one the queue or the ranking designates."""
    for e in d["replacements"]:
        b, s, task = e["body"], e["seq"], d["task"]
        target, claimed = b.get("target"), b.get("replacement")

        def pol(msg):
            rep.add("policy", s, f"task {task}: {msg}")

        try:
            if e["type"] == "draw.replace_target":
                if b.get("reason") not in TARGET_REASONS:
                    pol(f"target {target}: replacement reason {b.get('reason')!r} is not one of "
                        f"{', '.join(TARGET_REASONS)}")
                if target not in m.teams:
                    raise DrawFail(f"target {target}: not among the task's current targets")
                if sealed:  # the queue is sealed: the replacement is checked by oversight with the opening file
                    new = claimed if isinstance(claimed, str) and claimed not in stratum_of else None
                    if new is None:
                        raise DrawFail(f"target {target}: replacement {claimed!r} was already drawn")
                    sid = None
                else:
                    sid = stratum_of[target]
                    new = next((x for x in queues[sid] if x not in stratum_of), None)
                    if new is None:
                        raise DrawFail(f"stratum {sid}: the recorded replacement queue ({len(queues[sid])} targets) "
                                       "is used up")
                m.drop(target)
                m.assign(new)
                stratum_of[new] = sid
                if claimed != new:
                    pol(f"target {target}: replaced by {claimed}, but the next unused target in the queue of "
                        f"stratum {sid} is {new}")
            else:
                if b.get("reason") not in INSPECTOR_REASONS:
                    pol(f"target {target}: inspector replacement reason {b.get('reason')!r} is not one of "
                        f"{', '.join(INSPECTOR_REASONS)}")
                if b.get("approver_role") not in ("deputy_head", "head"):
                    pol(f"target {target}: an inspector replacement needs the approval of the 分管负责人 "
                        f"(approver_role), got {b.get('approver_role')!r}")
                new = m.replace(target, b.get("inspector"))
                if claimed != new:
                    pol(f"target {target}: {b.get('inspector')} replaced by {claimed}, but the next eligible "
                        f"inspector of the same ranking is {new}")
        except DrawFail as exc:
            pol(str(exc))


def open_sealed(c, opening) -> dict:
    """draw.md §8: check an opening file against the sealed commitments; stratum id -> sorted labels."""
    w = "opening"
    if not isinstance(opening, dict) or opening.get("algorithm") != ALG or opening.get("task") != c["task"]:
        raise DrawFail(f"{w}: expected an object with algorithm {ALG!r} and task {c['task']!r}")
    ms = _f(opening, "members", list, w)
    if len(ms) != len(c["labels"]):
        raise DrawFail(f"{w}: expected {len(c['labels'])} members (pool order), got {len(ms)}", "integrity")
    coms = c["sealed_commitments"]
    out = {s["id"]: [] for s in c["strata"]}
    for i, (m, label) in enumerate(zip(ms, c["labels"])):
        mw = f"{w}.members[{i}]"
        if _f(m, "label", str, mw) != label:
            raise DrawFail(f"{mw}: expected label {label} (pool order), got {m['label']}", "integrity")
        sid, nonce = _f(m, "stratum", str, mw), _f(m, "nonce", str, mw)
        if sid not in out or not _m(_HEX64, nonce):
            raise DrawFail(f"{mw}: unknown stratum {sid!r} or a nonce that is not 64 hex digits")
        if hashlib.sha256(frame(ALG, "stratum", c["task"], label, sid, bytes.fromhex(nonce))).hexdigest() != coms[i]:
            raise DrawFail(f"{mw}: {label} does not open its sealed commitment to stratum {sid!r}", "integrity")
        out[sid].append(label)
    for st in c["strata"]:
        if len(out[st["id"]]) != st["size"]:
            raise DrawFail(f"{w}: stratum {st['id']} has {len(out[st['id']])} members, but the commitment says "
                           f"{st['size']}", "integrity")
    return out


def recompute_task(d, get_blob, allow_test_chain, rep, openings=None) -> str:
    """Recompute one locked draw and compare it with its draw.lock; returns the task's note.

    ``openings``: task id -> opening file (JSON) of sealed strata, for oversight bodies (draw.md §8)."""
    task, lock = d["task"], d["lock"]
    opening = (openings or {}).get(task)
    try:
        c = load_commit(d["commit"]["body"], get_blob)
        if any(mode == "with_list" for _, _, mode in c["contributions"]) and d["reveal_entry"] is None:
            return "no-notice task: the outcome is withheld; the draw is recomputed once the list is revealed"
        reveal = d["reveal_entry"]["body"] if d["reveal_entry"] is not None else None
        if reveal is not None:
            if reveal.get("lock") != body_hash(lock["body"]):
                rep.add("integrity", d["reveal_entry"]["seq"], f"task {task}: the list reveal names another lock")
            if reveal.get("outcome") != lock["body"].get("outcome"):
                rep.add("integrity", d["reveal_entry"]["seq"],
                        f"task {task}: the list reveal publishes another outcome than the one locked earlier")
        ikm = load_randomness(c, d["randomness"]["body"], reveal, allow_test_chain, rep.notices)
        prk = seed(c, ikm)
        if c["sealed"] and opening is not None:
            c["members"] = open_sealed(c, opening)
        elif c["sealed"]:
            ref = lock["body"].get("outcome")
            doc = _json_blob(get_blob, ref, "draw.lock.outcome")
            diffs, m = sealed_public_checks(c, prk, doc)
            sel = doc.get("selected") if isinstance(doc, dict) else None
            diffs = _lock_header(c, d["randomness"]["body"], lock["body"], len(sel) if isinstance(sel, list)
                                 else None) + diffs
            for x in diffs:
                rep.add("integrity", lock["seq"], f"task {task}: {x}")
            if diffs:
                return "sealed strata: the public checks FAIL"
            replay(d, m, {x: None for x in sel}, None, True, rep)
            return ("sealed strata: seed, counts, cut-offs and teams checked; which stratum each target came from "
                    "needs the opening file")
        doc, m, stratum_of = compute(c, prk)
        queues = {st["id"]: st["queue"] for st in doc["strata"]}
        if c["sealed"]:  # the published document omits each sealed stratum's selection and queue
            doc["strata"] = [{k: st[k] for k in ("id", "size", "sample", "cutoff")} for st in doc["strata"]]
        diffs = _lock_header(c, d["randomness"]["body"], lock["body"], len(doc["selected"]))
        ref = lock["body"].get("outcome")
        if ref != "sha256:" + hashlib.sha256(jcs(doc).encode("utf-8")).hexdigest():
            try:
                got = _json_blob(get_blob, ref, "draw.lock.outcome")
                diffs += describe_differences(doc, got)
            except DrawFail as exc:
                diffs.append(f"the lock's outcome document cannot be read: {exc}")
    except DrawFail as exc:
        rep.add(exc.kind, lock["seq"], f"task {task}: the draw cannot be recomputed: {exc}")
        return "the draw cannot be recomputed"
    for x in diffs:
        rep.add("integrity", lock["seq"], f"task {task}: {x}")
    if diffs:
        return "draw recomputed: DIFFERS from the lock"
    replay(d, m, stratum_of, queues, False, rep)
    if c["sealed"]:
        return "sealed strata opened with the opening file; draw recomputed: matches the lock"
    return "draw recomputed from its commitment and randomness: matches the lock"


def read_dir(path: str):
    files = {}
    for dirpath, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for n in names:
            if not n.startswith("."):
                full = os.path.join(dirpath, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, path).replace(os.sep, "/")] = f.read()
    return files


def verify_files(files: dict, vkey: str | None = None, *, allow_test_chain: bool = False,
                 recompute: bool = True, openings: dict | None = None) -> Report:
    """Verify a ledger given as {relative path: bytes}; recompute every locked draw unless told not to.

    ``openings`` maps a task id to its sealed strata's opening file (parsed JSON), for oversight bodies."""
    rep = Report()
    try:
        verify(files, sorted(files), vkey, rep, allow_test_chain, recompute, openings)
    except Bad as exc:
        rep.add("integrity", None, str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error) as exc:
        rep.add("integrity", None, f"malformed data: {type(exc).__name__}: {exc}")
    return rep


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Verify a Sunshine (阳光抽查) ledger directory (standalone).")
    ap.add_argument("dir", help="the ledger directory (checkpoint, tile/, blob/)")
    ap.add_argument("--vkey", help="pin the log's verifier key (name+hash+base64); default: the genesis entry's")
    ap.add_argument("--json", action="store_true", help="print a JSON report")
    ap.add_argument("--allow-test-chain", action="store_true",
                    help="accept draws on the drand TEST chain (its secret key is public: sample data only)")
    ap.add_argument("--no-recompute", action="store_true", help="check the ledger only; do not recompute the draws")
    ap.add_argument("--opening", action="append", default=[], metavar="FILE",
                    help="an opening file of a task's sealed strata (oversight bodies only; its task is read from "
                         "the file): that draw is then recomputed in full; may be repeated")
    args = ap.parse_args(argv)
    if not os.path.isfile(os.path.join(args.dir, "checkpoint")):
        print(f"error: {args.dir}: not a ledger directory (no checkpoint file)", file=sys.stderr)
        return 1
    openings = {}
    for path in args.opening:
        try:
            with open(path, "rb") as f:
                o = json.loads(f.read().decode("utf-8"))
            openings[o["task"]] = o
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"error: {path}: expected an opening file (JSON with algorithm, task, members): {exc}",
                  file=sys.stderr)
            return 1
    rep = verify_files(read_dir(args.dir), args.vkey, allow_test_chain=args.allow_test_chain,
                       recompute=not args.no_recompute, openings=openings)
    verdict = {0: "ok", 3: "policy", 4: "integrity"}[rep.exit_code]
    if args.json:
        print(json.dumps({"verdict": verdict, "exit_code": rep.exit_code, "origin": rep.origin, "size": rep.size,
                          "findings": [{"kind": k, "seq": s, "message": m} for k, s, m in rep.findings],
                          "notices": rep.notices, "tasks": rep.tasks},
                         ensure_ascii=False, indent=2))
    else:
        print(f"ledger {rep.origin}: {rep.size} entries")
        for task, note in rep.tasks.items():
            print(f"  task {task}: {note}")
        for k, s, m in rep.findings:
            print(f"  {k}: " + (f"entry {s}: " if s is not None else "") + m)
        for n in rep.notices:
            print(f"  notice: {n}")
        print({"ok": "OK: the ledger verifies (layers 1-2, layer 3 without working-day deadlines"
                     + (", draws NOT recomputed)" if args.no_recompute else ", every locked draw recomputed)"),
               "policy": "RULE FINDINGS: the ledger is authentic but breaks rules (exit 3)",
               "integrity": "INTEGRITY FAILURE: tampered or damaged (exit 4)"}[verdict])
    return rep.exit_code


if __name__ == "__main__":
    sys.exit(main())
