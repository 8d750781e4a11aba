"""Ledger entries: the envelope, the entry types and the rules for who may sign what (pure).

Normative text: ``docs/spec/ledger.md`` §6–§8. An entry is the RFC 8785 canonical JSON of an object
with exactly the members ``body``, ``prev``, ``seq``, ``sig``, ``signer``, ``time``, ``type``, ``v``::

    {"body":{…},"prev":"<64 hex>","seq":12,"sig":"<base64 Ed25519>","signer":"amr-op-2025",
     "time":"2025-04-10T02:00:00Z","type":"draw.commit","v":1}

``sig`` is an Ed25519 signature over ``DOMAIN || origin || "\\n" || canonical(entry without sig)``.
``prev`` is the lowercase hex SHA-256 of the previous entry's bytes (64 zeros for ``seq`` 0). An
entry is at most 16 KiB; bigger payloads are blobs referenced as ``"sha256:<64 hex>"``.

:class:`LedgerState` replays entries in order and checks the chain (tamper evidence:
:class:`IntegrityError`) and the ledger's rules (signer registered, allowed for the type, key
valid at the entry's time, time not going backwards): those return :class:`Finding` objects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import json.encoder
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from . import canonical
from .errors import FormatError, IntegrityError

__all__ = [
    "DOMAIN", "MAX_ENTRY_SIZE", "ZERO_HASH", "ENTRY_TYPES", "Entry", "Finding", "KeyInfo", "LedgerState",
    "build_entry", "parse_entry", "parse_entry_fields", "signed_message", "unsigned_bytes", "verify_signature",
    "check_body", "blob_refs",
    "parse_time", "withholdable_refs",
]

#: Domain-separation prefix of entry signatures (spec §6.2).
DOMAIN = b"sunshine/ledger/entry/v1\n"
MAX_ENTRY_SIZE = 16 * 1024
ZERO_HASH = "0" * 64
MEMBERS = ("body", "prev", "seq", "sig", "signer", "time", "type", "v")

_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}\Z")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_DEPT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}\Z")
_BLOB = re.compile(r"^sha256:[0-9a-f]{64}\Z")
_B64_SIG = re.compile(r"^[A-Za-z0-9+/]{86}==\Z")
_ORIGIN = re.compile(r"^[\x21-\x7e]{1,255}\Z")


# --------------------------------------------------------------------------- small parsers

#: Times and dates already found valid (checking the calendar is the costly part; strings repeat).
_SEEN_TIMES: set[str] = set()
_SEEN_DATES: set[str] = set()


def parse_time(value: object, where: str) -> str:
    """Check a ``YYYY-MM-DDTHH:MM:SSZ`` UTC timestamp (a real calendar time) and return it."""
    if isinstance(value, str) and value in _SEEN_TIMES:
        return value
    if not isinstance(value, str) or not _TIME.match(value):
        raise FormatError(f"{where}: expected a time \"YYYY-MM-DDTHH:MM:SSZ\", got {value!r}")
    try:
        datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]),
                 int(value[17:19]))
    except ValueError:
        raise FormatError(f"{where}: expected a real calendar time, got {value!r}") from None
    if len(_SEEN_TIMES) < 65536:
        _SEEN_TIMES.add(value)
    return value


def _date(value: object, where: str) -> str:
    if isinstance(value, str) and value in _SEEN_DATES:
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise FormatError(f"{where}: expected a date \"YYYY-MM-DD\", got {value!r}")
    try:
        datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        raise FormatError(f"{where}: expected a real calendar date, got {value!r}") from None
    if len(_SEEN_DATES) < 65536:
        _SEEN_DATES.add(value)
    return value


def _str(value: object, where: str, pattern: re.Pattern | None = None, what: str = "a string") -> str:
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise FormatError(f"{where}: expected {what}, got {value!r}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _int(value: object, where: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise FormatError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise FormatError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def _obj(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise FormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _blob(value: object, where: str) -> str:
    return _str(value, where, _BLOB, 'a blob reference "sha256:<64 lowercase hex>"')


def _require(body: dict, where: str, *names: str) -> None:
    missing = [n for n in names if n not in body]
    if missing:
        raise FormatError(f"{where}: expected member(s) {', '.join(map(repr, missing))}, missing")


# --------------------------------------------------------------------------- body schemas (spec §7)

ROLES_FOR_KEYS = ("root", "head", "operator", "witness")


def _check_key_record(rec: object, where: str) -> dict:
    rec = _obj(rec, where)
    _require(rec, where, "name", "department", "role", "alg", "public_key")
    extra = set(rec) - {"name", "department", "role", "alg", "public_key"}
    if extra:
        raise FormatError(f"{where}: unexpected member(s) {', '.join(sorted(map(repr, extra)))}")
    _str(rec["name"], f"{where}.name", _NAME, "a key name (A-Z a-z 0-9 . _ / : -, at most 64)")
    _str(rec["department"], f"{where}.department", _DEPT, "a department id (a-z 0-9 _ -)")
    if rec["role"] not in ROLES_FOR_KEYS:
        raise FormatError(f"{where}.role: expected one of {', '.join(ROLES_FOR_KEYS)}, got {rec['role']!r}")
    if rec["alg"] != "ed25519":
        raise FormatError(f"{where}.alg: expected 'ed25519', got {rec['alg']!r}")
    _public_key_bytes(rec["public_key"], f"{where}.public_key")
    return rec


def _public_key_bytes(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"{where}: expected base64 of 32 bytes, got {value!r}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{where}: expected base64 of 32 bytes, got {value!r}") from None
    if len(raw) != 32 or base64.b64encode(raw).decode() != value:
        raise FormatError(f"{where}: expected canonical base64 of 32 bytes, got {len(raw)} bytes")
    return raw


def _check_genesis(b: dict, w: str) -> None:
    _require(b, w, "origin", "jurisdiction", "name", "office", "departments", "log_key", "keys")
    _str(b["origin"], f"{w}.origin", _ORIGIN, "an ASCII origin without spaces")
    _str(b["jurisdiction"], f"{w}.jurisdiction", _ID, "a jurisdiction id")
    _text(b["name"], f"{w}.name")
    _str(b["office"], f"{w}.office", _DEPT, "a department id")
    depts = _list(b["departments"], f"{w}.departments")
    if not depts:
        raise FormatError(f"{w}.departments: expected at least one department, got none")
    seen = set()
    for i, d in enumerate(depts):
        d = _obj(d, f"{w}.departments[{i}]")
        _require(d, f"{w}.departments[{i}]", "id", "name")
        did = _str(d["id"], f"{w}.departments[{i}].id", _DEPT, "a department id")
        _text(d["name"], f"{w}.departments[{i}].name")
        if did in seen:
            raise FormatError(f"{w}.departments[{i}].id: expected unique ids, got {did!r} twice")
        seen.add(did)
    if b["office"] not in seen:
        raise FormatError(f"{w}.office: expected one of the departments, got {b['office']!r}")
    _str(b["log_key"], f"{w}.log_key", None, "a signed-note verifier key")
    _vkey_name_and_key(b["log_key"])
    keys = _list(b["keys"], f"{w}.keys")
    for i, k in enumerate(keys):
        _check_key_record(k, f"{w}.keys[{i}]")
    if not any(k["role"] == "root" and k["department"] == b["office"] for k in keys):
        raise FormatError(f"{w}.keys: expected a key with role 'root' of the office {b['office']!r}, got none")
    if "settings" in b:
        s = _obj(b["settings"], f"{w}.settings")
        for name, value in s.items():
            _int(value, f"{w}.settings.{name}", 0)


def _check_key_register(b: dict, w: str) -> None:
    _require(b, w, "key")
    _check_key_record(b["key"], f"{w}.key")


def _check_key_rotate(b: dict, w: str) -> None:
    _require(b, w, "old", "key")
    _str(b["old"], f"{w}.old", _NAME, "a key name")
    _check_key_record(b["key"], f"{w}.key")


def _check_key_revoke(b: dict, w: str) -> None:
    _require(b, w, "name", "reason")
    _str(b["name"], f"{w}.name", _NAME, "a key name")
    _text(b["reason"], f"{w}.reason")
    if "compromised_since" in b:
        parse_time(b["compromised_since"], f"{w}.compromised_since")


def _check_items_publish(b: dict, w: str) -> None:
    _require(b, w, "version", "published", "items")
    _int(b["version"], f"{w}.version", 1)
    _date(b["published"], f"{w}.published")
    _blob(b["items"], f"{w}.items")


def _check_plan_publish(b: dict, w: str) -> None:
    _require(b, w, "year", "version", "published", "tasks")
    _int(b["year"], f"{w}.year", 2000)
    _int(b["version"], f"{w}.version", 1)
    _date(b["published"], f"{w}.published")
    for i, t in enumerate(_list(b["tasks"], f"{w}.tasks")):
        tw = f"{w}.tasks[{i}]"
        t = _obj(t, tw)
        _require(t, tw, "id", "lead", "participants")
        _str(t["id"], f"{tw}.id", _ID, "a task id")
        _str(t["lead"], f"{tw}.lead", _DEPT, "a department id")
        for j, p in enumerate(_list(t["participants"], f"{tw}.participants")):
            _str(p, f"{tw}.participants[{j}]", _DEPT, "a department id")
    if "plan" in b:
        _blob(b["plan"], f"{w}.plan")


def _check_directory_snapshot(b: dict, w: str) -> None:
    _require(b, w, "targets", "inspectors", "confirmed")
    for name in ("targets", "inspectors"):
        d = _obj(b[name], f"{w}.{name}")
        _require(d, f"{w}.{name}", "blob", "count")
        _blob(d["blob"], f"{w}.{name}.blob")
        _int(d["count"], f"{w}.{name}.count", 0)
    _date(b["confirmed"], f"{w}.confirmed")


def _check_draw(b: dict, w: str) -> None:
    _require(b, w, "task")
    _str(b["task"], f"{w}.task", _ID, "a task id")


def _check_replace_inspector(b: dict, w: str) -> None:
    _check_draw(b, w)
    if "department" in b:
        _str(b["department"], f"{w}.department", _DEPT, "a department id")


def _check_result(b: dict, w: str, correction: bool) -> None:
    # The common case first, without building the member paths: a valid original result whose dates were
    # seen before. Anything else takes the member-by-member checks below, which name the first problem.
    if not correction:
        try:
            task, target, dept = b["task"], b["target"], b["department"]
            end, published, version = b["inspection_end"], b["published"], b["version"]
        except KeyError:
            pass
        else:
            if (task.__class__ is str and _ID.match(task) and target.__class__ is str and target.strip()
                    and dept.__class__ is str and _DEPT.match(dept) and end.__class__ is str and end in _SEEN_DATES
                    and published.__class__ is str and published in _SEEN_DATES and version == 1):
                return
    _require(b, w, "task", "target", "department", "version", "inspection_end", "published")
    _str(b["task"], f"{w}.task", _ID, "a task id")
    _text(b["target"], f"{w}.target")
    _str(b["department"], f"{w}.department", _DEPT, "a department id")
    _date(b["inspection_end"], f"{w}.inspection_end")
    _date(b["published"], f"{w}.published")
    if correction:
        _int(b["version"], f"{w}.version", 2)
        _require(b, w, "reason")
        _text(b["reason"], f"{w}.reason")
    elif b["version"] != 1:
        raise FormatError(f"{w}.version: expected 1 (corrections are result.correct), got {b['version']!r}")


def _check_checkpoint_witness(b: dict, w: str) -> None:
    _require(b, w, "checkpoint", "cosignatures")
    _text(b["checkpoint"], f"{w}.checkpoint")
    sigs = _list(b["cosignatures"], f"{w}.cosignatures")
    if not sigs:
        raise FormatError(f"{w}.cosignatures: expected at least one cosignature line, got none")
    for i, s in enumerate(sigs):
        _text(s, f"{w}.cosignatures[{i}]")


@dataclass(frozen=True, slots=True)
class EntryType:
    name: str
    signer: str  # signer rule: see SIGNER_RULES
    check: Callable[[dict, str], None]
    label: str  # Chinese label for the portal


#: Who may sign an entry of a type (spec §8).
SIGNER_RULES = {
    "log": "the log key named in the genesis entry",
    "root": "a key with role 'root' of the office",
    "office": "a 'head' or 'operator' key of the office (联席会议办公室)",
    "lead": "a 'head' or 'operator' key of the task's lead department",
    "lead_or_office": "a 'head' or 'operator' key of the task's lead department or of the office",
    "task_department": "a 'head' or 'operator' key of a department of the task (the one named in the body, if any)",
    "result_department": "a 'head' or 'operator' key of the department named in the body",
    "result_head": "a 'head' key of the department named in the body",
}

ENTRY_TYPES: dict[str, EntryType] = {
    t.name: t
    for t in (
        EntryType("genesis", "log", _check_genesis, "账本创建"),
        EntryType("key.register", "root", _check_key_register, "登记密钥"),
        EntryType("key.rotate", "root", _check_key_rotate, "更换密钥"),
        EntryType("key.revoke", "root", _check_key_revoke, "吊销密钥"),
        EntryType("items.publish", "office", _check_items_publish, "公布抽查事项清单"),
        EntryType("plan.publish", "office", _check_plan_publish, "公布年度抽查计划"),
        EntryType("directory.snapshot", "office", _check_directory_snapshot, "名录库确认"),
        EntryType("draw.commit", "lead", _check_draw, "摇号承诺"),
        EntryType("draw.randomness", "lead_or_office", _check_draw, "公布随机数"),
        EntryType("draw.lock", "lead", _check_draw, "锁定抽取结果"),
        EntryType("draw.list_reveal", "lead", _check_draw, "公布抽查名单"),
        EntryType("draw.dispatch", "lead", _check_draw, "派发任务"),
        EntryType("draw.replace_target", "lead", _check_draw, "替换检查对象"),
        EntryType("draw.replace_inspector", "task_department", _check_replace_inspector, "更换检查人员"),
        EntryType("draw.void", "lead", _check_draw, "作废摇号承诺"),
        EntryType("result.publish", "result_department", lambda b, w: _check_result(b, w, False), "公示检查结果"),
        EntryType("result.correct", "result_head", lambda b, w: _check_result(b, w, True), "更正检查结果"),
        EntryType("checkpoint.witness", "office", _check_checkpoint_witness, "见证签名"),
    )
}


def check_body(type_: str, body: object, where: str = "body") -> dict:
    """Check a body against the schema of its type; :class:`FormatError` names the member."""
    et = ENTRY_TYPES.get(type_)
    if et is None:
        raise FormatError(f"type: expected one of {', '.join(ENTRY_TYPES)}, got {type_!r}")
    body = _obj(body, where)
    et.check(body, where)
    return body


def withholdable_refs(type_: str, body: dict) -> set[str]:
    """Blob references an entry may make before the blob is published: the outcome document of a
    ``draw.lock``, withheld for a no-notice task until its ``draw.list_reveal`` publishes it
    (``docs/spec/draw.md`` §9). Verifiers require it for every other task (layer 3)."""
    if type_ == "draw.lock" and isinstance(body.get("outcome"), str):
        return {body["outcome"]}
    return set()


def blob_refs(value: object) -> Iterator[str]:
    """Every ``"sha256:<hex>"`` string anywhere in *value*: the blobs an entry references (spec §10)."""
    if isinstance(value, str):
        if len(value) == 71 and _BLOB.match(value):
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from blob_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from blob_refs(v)


# --------------------------------------------------------------------------- the envelope


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    prev: str
    time: str
    type: str
    signer: str
    body: dict
    sig: bytes
    raw: bytes  # the canonical bytes: the Merkle leaf data
    hash: str = field(default="")  # hex SHA-256 of raw: the next entry's prev

    def unsigned_bytes(self) -> bytes:
        """Canonical JSON of the entry without ``sig``."""
        return unsigned_bytes(self.raw)


def unsigned_bytes(raw: bytes) -> bytes:
    """Canonical JSON of an entry without ``sig``, from the entry's bytes (which :func:`parse_entry` accepted)."""
    # ``sig`` is the only top-level member after ``seq`` whose value could hold a comma; the members
    # after it (signer, time, type, v) are restricted to characters that cannot spell `,"sig":"`,
    # so the last occurrence is the top-level member (checked by parse_entry).
    i = raw.rfind(b',"sig":"')
    j = raw.index(b'"', i + 8)
    return raw[:i] + raw[j + 1:]


def signed_message(origin: str, unsigned: bytes) -> bytes:
    """The bytes an entry signature covers: ``DOMAIN || origin || "\\n" || unsigned``."""
    return DOMAIN + origin.encode("ascii") + b"\n" + unsigned


def build_entry(origin: str, seq: int, prev: str, time: str, type_: str, body: dict, signer) -> Entry:
    """Build and sign an entry. *signer* has ``name`` and ``sign(message) -> bytes`` (Ed25519)."""
    parse_time(time, "time")
    check_body(type_, body)
    _str(signer.name, "signer", _NAME, "a key name")
    unsigned_obj = {"body": body, "prev": prev, "seq": seq, "signer": signer.name, "time": time,
                    "type": type_, "v": 1}
    unsigned = canonical.encode(unsigned_obj)
    sig = signer.sign(signed_message(origin, unsigned))
    raw = canonical.encode({**unsigned_obj, "sig": base64.b64encode(sig).decode("ascii")})
    if len(raw) > MAX_ENTRY_SIZE:
        raise FormatError(
            f"entry: expected at most {MAX_ENTRY_SIZE} bytes, got {len(raw)}",
            hint="put large payloads in blobs (put_blob) and reference them as \"sha256:<hex>\"",
        )
    return parse_entry(raw)


class _NotFast(Exception):
    pass


def _fast_float(text: str):
    raise _NotFast


def _fast_int(text: str) -> int:
    value = int(text)
    if not -canonical.MAX_SAFE_INTEGER <= value <= canonical.MAX_SAFE_INTEGER:
        raise _NotFast
    return value


def _no_default(value: object):
    raise TypeError(type(value).__name__)


#: Bytes that send a value to the careful decoder: a 4-byte UTF-8 sequence (a character beyond the BMP,
#: where UTF-16 and code-point key order may differ). Integers beyond ±(2**53−1) are sent there by
#: :func:`_fast_int` (a search for long digit runs cost more than the rest of the fast path).
_CAREFUL = re.compile(rb"[\xf0-\xf4]")
#: The C scanner of a decoder built once (``json.loads`` with hooks builds a decoder and a scanner per call).
_SCAN = json.JSONDecoder(parse_float=_fast_float, parse_int=_fast_int, parse_constant=_fast_float).scan_once
#: The C encoder of ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))``, built once
#: (``json.dumps`` builds it per call); ``None`` without the C accelerator.
_ENCODE = (json.encoder.c_make_encoder(None, _no_default, json.encoder.c_encode_basestring, None, ":", ",",
                                       True, False, True)
           if json.encoder.c_make_encoder is not None and json.encoder.c_encode_basestring is not None else None)


def _dumps(obj: object) -> str:
    if _ENCODE is None:
        return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "".join(_ENCODE(obj, 0))


def decode_canonical(data: bytes) -> object:
    """:func:`canonical.decode`, with a fast path for the common case (same result, same errors).

    ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` writes exactly the RFC 8785
    form of a value made of objects whose keys are in the Basic Multilingual Plane (code-point order =
    UTF-16 order), integers within ±(2**53−1) and valid Unicode strings (the same escapes:
    ``\\" \\\\ \\b \\f \\n \\r \\t`` and lowercase ``\\u00xx``). So when the strict UTF-8 text of *data*
    is one JSON value and re-encoding it that way gives back that text character for character — which
    also rules out duplicate member names, whitespace and any other spelling — *data* is canonical.
    Invalid UTF-8, floats, characters beyond the BMP, integers beyond ±(2**53−1), lone surrogates (they
    re-encode as themselves, not as the ``\\ud8xx`` escape they were read from) and every mismatch go to
    :func:`canonical.decode`, which decides and names the error. ``tests/test_entries.py`` checks that
    both agree.
    """
    if not data.isascii() and _CAREFUL.search(data):
        return canonical.decode(data)
    try:
        text = data.decode("utf-8")
        obj, end = _SCAN(text, 0)
        if end == len(text) and _dumps(obj) == text:
            return obj
    except (_NotFast, StopIteration, ValueError, UnicodeError, RecursionError, TypeError):
        pass
    return canonical.decode(data)


#: Everything after the body of a canonical entry: ``prev``, ``seq``, ``sig``, ``signer``, ``time``, ``type``
#: and ``v`` in their only canonical spelling (none of these values has a character JSON escapes).
_TAIL = re.compile(
    rb',"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),"sig":"([A-Za-z0-9+/]{86}==)",'
    rb'"signer":"([A-Za-z0-9][A-Za-z0-9._/:-]{0,63})",'
    rb'"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)","type":"([a-z.]{1,32})","v":1\}'
)
_B64_LOW_BITS_ZERO = frozenset(b"AQgw")  # the base64 digits 0, 16, 32, 48
_TYPE_BY_BYTES = {name.encode("ascii"): name for name in ENTRY_TYPES}
#: Signer names already seen, one string object each (they repeat on every entry).
_SIGNERS: dict[bytes, str] = {}


def parse_entry_fields(data: bytes, where: str = "entry") -> tuple[int, str, str, str, str, dict, bytes, str]:
    """:func:`parse_entry` without building the :class:`Entry`: ``(seq, prev, time, type, signer, body, sig,
    hash)``. Same checks, same errors.

    Fast path: a canonical entry is ``{"body":`` + the canonical body + the tail matched by ``_TAIL``
    (members sort as body, prev, seq, sig, signer, time, type, v), so when the tail after the last
    ``,"prev":"`` matches and the bytes before it decode canonically as an object (:func:`decode_canonical`),
    the entry is canonical. Anything else, or any failed check, goes through the member-by-member path,
    which gives the same fields or raises the error naming the member; ``tests/test_entries.py`` checks that
    both paths agree.
    """
    if data.__class__ is not bytes:
        data = bytes(data)
    i = data.rfind(b',"prev":"')
    m = _TAIL.fullmatch(data, i) if i > 8 and data[:9] == b'{"body":{' and len(data) <= MAX_ENTRY_SIZE else None
    if m is not None:
        type_ = _TYPE_BY_BYTES.get(m[6])
        seq = int(m[2])
        # 86 base64 digits and "==" carry 516 bits for 512: canonical when the last digit's low 4 bits are 0
        if type_ is not None and seq <= canonical.MAX_SAFE_INTEGER and m[3][85] in _B64_LOW_BITS_ZERO:
            sig = binascii.a2b_base64(m[3])
            try:
                body = decode_canonical(data[8:i])
                if body.__class__ is dict:
                    time = m[5].decode("ascii")  # YYYY-MM-DDTHH:MM:SSZ in ASCII digits: a real time if …
                    if not (time[:10] in _SEEN_DATES and time[11:13] < "24" and time[14:16] < "60"
                            and time[17:19] < "60"):
                        parse_time(time, f"{where}.time")
                        _date(time[:10], f"{where}.time")  # remembered for the next entries of that day
                    ENTRY_TYPES[type_].check(body, f"{where}.body")
                    signer = _SIGNERS.get(m[4])
                    if signer is None:
                        signer = m[4].decode("ascii")
                        if len(_SIGNERS) < 4096:
                            _SIGNERS[m[4]] = signer
                    return seq, m[1].decode("ascii"), time, type_, signer, body, sig, hashlib.sha256(data).hexdigest()
            except FormatError:
                pass  # the member-by-member path names the error
    return _parse_fields_strictly(data, where)


def _parse_fields_strictly(data: bytes, where: str) -> tuple[int, str, str, str, str, dict, bytes, str]:
    if len(data) > MAX_ENTRY_SIZE:
        raise FormatError(f"{where}: expected at most {MAX_ENTRY_SIZE} bytes, got {len(data)}")
    try:
        obj = decode_canonical(bytes(data))
    except FormatError as exc:
        raise FormatError(f"{where}: {exc.message}") from None
    if not isinstance(obj, dict):
        raise FormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if set(obj) != set(MEMBERS):
        missing = sorted(set(MEMBERS) - set(obj))
        extra = sorted(set(obj) - set(MEMBERS))
        raise FormatError(
            f"{where}: expected exactly the members {', '.join(MEMBERS)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    if obj["v"] != 1 or type(obj["v"]) is not int:
        raise FormatError(f"{where}.v: expected 1, got {obj['v']!r}")
    seq = _int(obj["seq"], f"{where}.seq", 0)
    prev = _str(obj["prev"], f"{where}.prev", _HEX64, "64 lowercase hex digits")
    time = parse_time(obj["time"], f"{where}.time")
    type_ = obj["type"]
    if type_ not in ENTRY_TYPES:
        raise FormatError(f"{where}.type: expected one of {', '.join(ENTRY_TYPES)}, got {type_!r}")
    signer = _str(obj["signer"], f"{where}.signer", _NAME, "a key name")
    sig_b64 = _str(obj["sig"], f"{where}.sig", _B64_SIG, "base64 of a 64-byte Ed25519 signature")
    sig = base64.b64decode(sig_b64)
    if base64.b64encode(sig).decode() != sig_b64:
        raise FormatError(f"{where}.sig: expected canonical base64, got {sig_b64!r}")
    body = check_body(type_, obj["body"], f"{where}.body")
    return seq, prev, time, type_, signer, body, sig, hashlib.sha256(data).hexdigest()


def parse_entry(data: bytes, where: str = "entry") -> Entry:
    """Parse one entry strictly (canonical JSON, exact members, types); :class:`FormatError` if not.

    The body is checked against its type's schema too. Chain, signature and signer rules are
    checked by :class:`LedgerState`.
    """
    seq, prev, time, type_, signer, body, sig, hash_ = parse_entry_fields(data, where)
    return Entry(seq, prev, time, type_, signer, body, sig, bytes(data), hash_)


def verify_signature(entry: Entry, origin: str, public_key: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            entry.sig, signed_message(origin, entry.unsigned_bytes())
        )
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------- replaying the ledger


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found in a ledger. ``kind`` is ``"integrity"`` (tamper evidence) or ``"policy"``."""

    kind: str
    layer: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.seq}: " if self.seq is not None else ""
        return f"{where}{self.message}"


@dataclass(slots=True)
class KeyInfo:
    name: str
    department: str
    role: str
    public_key: bytes
    registered_seq: int
    valid_from: str
    valid_until: str | None = None  # time it was rotated out or revoked
    status: str = "active"  # active | rotated | revoked
    replaced_by: str | None = None
    revocation_reason: str | None = None
    compromised_since: str | None = None
    history: list = field(default_factory=list)  # [(seq, time, event)]

    def summary(self) -> dict:
        """This key's line in ``keys.json`` (spec §9.4)."""
        out = {
            "name": self.name,
            "department": self.department,
            "role": self.role,
            "alg": "ed25519",
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "status": self.status,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "history": [{"seq": s, "time": t, "event": e} for s, t, e in self.history],
        }
        if self.replaced_by:
            out["replaced_by"] = self.replaced_by
        if self.revocation_reason:
            out["revocation_reason"] = self.revocation_reason
        if self.compromised_since:
            out["compromised_since"] = self.compromised_since
        return out


class LedgerState:
    """The ledger's state after replaying entries 0..size-1 (spec §11 layer 2).

    :meth:`apply` checks one more entry. Broken chain links and signatures raise
    :class:`IntegrityError`; rule violations are returned as findings. With
    ``defer_signatures=True`` signatures are not checked but queued in :attr:`pending`
    (``(entry, public_key)``; :func:`signed_message` and :meth:`Entry.unsigned_bytes` give the message)
    so that a caller can verify them in parallel or use verdicts it already has.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.size = 0
        self.head = ZERO_HASH
        self.last_time: str | None = None
        self.genesis: dict | None = None
        self.keys: dict[str, KeyInfo] = {}
        self.departments: dict[str, str] = {}
        self.office: str | None = None
        self.log_key: str | None = None
        self.log_key_name: str | None = None
        self.tasks: dict[str, dict] = {}  # task id -> {"lead", "participants"} from the latest plan.publish
        self.pending: list[tuple[Entry, bytes]] = []

    # -- public key summary (keys.json)
    def keys_summary(self) -> dict:
        return {
            "origin": self.origin,
            "log_key": self.log_key,
            "size": self.size,
            "keys": [k.summary() for k in sorted(self.keys.values(), key=lambda k: (k.registered_seq, k.name))],
        }

    def check_next(self, e: Entry, *, defer_signatures: bool = False) -> tuple[list[Finding], KeyInfo | None]:
        """Check *e* as the next entry without changing the state."""
        if e.seq != self.size:
            raise IntegrityError(f"entry {self.size}: expected seq {self.size}, got {e.seq}")
        if e.prev != self.head:
            raise IntegrityError(
                f"entry {e.seq}: hash chain broken: expected prev {self.head}, got {e.prev}"
            )
        findings: list[Finding] = []
        seq = e.seq

        if (seq == 0) != (e.type == "genesis"):
            raise IntegrityError(
                f"entry {e.seq}: expected {'a genesis' if e.seq == 0 else 'no genesis'} entry, got type {e.type!r}"
            )
        if e.type == "genesis":
            if e.body["origin"] != self.origin:
                raise IntegrityError(f"entry 0: expected origin {self.origin!r}, got {e.body['origin']!r}")
            name, pub = _vkey_name_and_key(e.body["log_key"])
            if e.signer != name:
                raise IntegrityError(f"entry 0: expected signer {name!r} (the log key), got {e.signer!r}")
            self._check_sig(e, pub, defer_signatures)
            return findings, None

        time = e.time
        if self.last_time is not None and time < self.last_time:
            findings.append(Finding("policy", 2, seq, f"time {time} is before the previous entry's time {self.last_time}"))
        key = self.keys.get(e.signer)
        if key is None:
            if e.signer == self.log_key_name:
                self._check_sig(e, _vkey_name_and_key(self.log_key)[1], defer_signatures)
                findings.append(Finding("policy", 2, seq, f"{e.type} signed by the log key, which may sign only the "
                                                          "genesis entry"))
                return findings, None
            raise IntegrityError(f"entry {seq}: signed by {e.signer!r}, which is not a registered key")
        if defer_signatures:
            self.pending.append((e, key.public_key))
        else:
            self._check_sig(e, key.public_key, False)
        messages: list[str] = []
        if key.role == "witness":
            messages.append(f"{e.type} signed by witness key {key.name!r}; witness keys only cosign checkpoints")
        if time < key.valid_from:
            messages.append(f"signed by {key.name!r} before the key was valid (from {key.valid_from})")
        if key.valid_until is not None and time >= key.valid_until:
            messages.append(f"signed by {key.name!r}, {key.status} at {key.valid_until}")
        if key.compromised_since is not None and time >= key.compromised_since:
            messages.append(f"signed by {key.name!r}, reported compromised since {key.compromised_since}")
        messages += self._signer_allowed(e, key)
        messages += self._body_rules(e)
        for m in messages:
            findings.append(Finding("policy", 2, seq, m))
        return findings, key

    def apply(self, e: Entry, *, defer_signatures: bool = False) -> list[Finding]:
        """Check *e* as the next entry and add it to the state. Returns the policy findings."""
        findings, _ = self.check_next(e, defer_signatures=defer_signatures)
        self._update(e)
        return findings

    def _check_sig(self, e: Entry, public_key: bytes, defer: bool) -> None:
        if defer:
            self.pending.append((e, public_key))
        elif not verify_signature(e, self.origin, public_key):
            raise IntegrityError(f"entry {e.seq}: signature by {e.signer!r} does not verify")

    def _signer_allowed(self, e: Entry, key: KeyInfo) -> list[str]:
        rule = ENTRY_TYPES[e.type].signer
        dept_roles = ("head", "operator")
        if rule == "root":
            ok = key.role == "root" and key.department == self.office
            return [] if ok else [f"{e.type} must be signed by {SIGNER_RULES['root']}; got {key.name!r} "
                                  f"({key.department}, {key.role})"]
        if rule == "office":
            want = {self.office}
        elif rule in ("lead", "lead_or_office", "task_department"):
            task = self.tasks.get(e.body["task"])
            if task is None:
                return [f"{e.type} for task {e.body['task']!r}, which no published plan contains"]
            want = {task["lead"]}
            if rule == "lead_or_office":
                want.add(self.office)
            if rule == "task_department":
                want = {task["lead"], *task["participants"]}
                if "department" in e.body:
                    if e.body["department"] not in want:
                        return [f"{e.type}: department {e.body['department']!r} does not take part in task "
                                f"{e.body['task']!r}"]
                    want = {e.body["department"]}
        else:  # result_department / result_head
            want = {e.body["department"]}
            if rule == "result_head":
                dept_roles = ("head",)
        if key.department in want and key.role in dept_roles:
            return []
        return [f"{e.type} must be signed by {SIGNER_RULES[rule]} ({', '.join(sorted(want))}); got "
                f"{key.name!r} ({key.department}, {key.role})"]

    def _body_rules(self, e: Entry) -> list[str]:
        b = e.body
        out: list[str] = []
        if e.type in ("result.publish", "result.correct", "draw.replace_inspector"):  # (the last rule only)
            if "department" in b and b["department"] not in self.departments:
                out.append(f"{e.type}: unknown department {b['department']!r}")
            return out
        if e.type in ("key.register", "key.rotate"):
            rec = b["key"]
            if rec["name"] in self.keys or rec["name"] == self.log_key_name:
                out.append(f"key name {rec['name']!r} is already used; key names are never reused")
            if rec["role"] != "witness" and rec["department"] not in self.departments:
                out.append(f"key {rec['name']!r}: department {rec['department']!r} is not in the genesis entry")
            if rec["role"] == "root" and rec["department"] != self.office:
                out.append(f"key {rec['name']!r}: a root key must belong to the office {self.office!r}")
        if e.type == "key.rotate":
            old = self.keys.get(b["old"])
            if old is None or old.status != "active":
                out.append(f"key.rotate: {b['old']!r} is not an active key")
            elif (old.department, old.role) != (b["key"]["department"], b["key"]["role"]):
                out.append(f"key.rotate: the new key must keep department {old.department!r} and role {old.role!r}")
        if e.type == "key.revoke":
            old = self.keys.get(b["name"])
            if old is None or old.status != "active":
                out.append(f"key.revoke: {b['name']!r} is not an active key")
            elif old.role == "root":
                out.append("key.revoke: a root key is replaced with key.rotate, not revoked")
            if "compromised_since" in b and b["compromised_since"] > e.time:
                out.append("key.revoke: compromised_since is after the revocation")
        if e.type == "plan.publish":
            for t in b["tasks"]:
                for d in (t["lead"], *t["participants"]):
                    if d not in self.departments:
                        out.append(f"plan.publish: task {t['id']!r} names unknown department {d!r}")
        return out

    def _update(self, e: Entry) -> None:
        b = e.body
        if e.type == "genesis":
            self.genesis = b
            self.office = b["office"]
            self.departments = {d["id"]: d["name"] for d in b["departments"]}
            self.log_key = b["log_key"]
            self.log_key_name = _vkey_name_and_key(b["log_key"])[0]
            for rec in b["keys"]:
                self._add_key(rec, e)
        elif e.type == "key.register":
            self._add_key(b["key"], e)
        elif e.type == "key.rotate":
            old = self.keys.get(b["old"])
            if old is not None and old.status == "active":
                old.status, old.valid_until, old.replaced_by = "rotated", e.time, b["key"]["name"]
                old.history.append((e.seq, e.time, "rotated"))
            self._add_key(b["key"], e)
        elif e.type == "key.revoke":
            old = self.keys.get(b["name"])
            if old is not None and old.status == "active":
                old.status, old.valid_until = "revoked", e.time
                old.revocation_reason = b["reason"]
                old.compromised_since = b.get("compromised_since")
                old.history.append((e.seq, e.time, "revoked"))
        elif e.type == "plan.publish":
            for t in b["tasks"]:
                self.tasks[t["id"]] = {"lead": t["lead"], "participants": list(t["participants"])}
        self.size += 1
        self.head = e.hash
        if self.last_time is None or e.time > self.last_time:
            self.last_time = e.time

    def _add_key(self, rec: dict, e: Entry) -> None:
        if rec["name"] in self.keys:
            return  # reported as a finding by _body_rules
        info = KeyInfo(rec["name"], rec["department"], rec["role"], base64.b64decode(rec["public_key"]),
                       e.seq, e.time)
        info.history.append((e.seq, e.time, "registered"))
        self.keys[rec["name"]] = info


def _vkey_name_and_key(vkey: str) -> tuple[str, bytes]:
    """Name and raw Ed25519 public key of the genesis entry's log key (a signed-note verifier key)."""
    from . import note

    try:
        v = note.parse_verifier_key(vkey)
    except FormatError as exc:
        raise FormatError(f"genesis log_key: {exc.message}") from None
    if v.alg != note.ALG_ED25519:
        raise FormatError(f"genesis log_key: expected an Ed25519 (type 0x01) key, got type 0x{v.alg:02x}")
    return v.name, v.public_key
