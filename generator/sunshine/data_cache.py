"""A cache of parsed data files, kept beside the build output (``<output>.cache/data/``), never in it.

``sunshine build`` parses ``targets.csv`` (a million rows at province scale), ``inspectors.csv``, each
``plans/<year>.yaml`` (thousands of tasks: PyYAML is slow) and each ``results/<year>.csv`` into records
on every build; with a :class:`DataCache` an unchanged file is not parsed again: its records, the
problems found while parsing and the records' locations (for the rules' messages) come from the cache.

Key and invalidation. An entry is looked up by the file's path relative to the data directory and is
valid only for the same **SHA-256 of the file's bytes** and the same **code digest** (SHA-256 of the
source of the modules that parse: ``loading``, ``model``, ``vocabulary``, ``uscc``, ``errors`` and this
one, and the machine's byte order). A changed byte, a changed parser or a new package version is a
miss: the file is read and checked again. The cross-file rules (:func:`sunshine.rules.check_dataset`)
are never cached; they run on every build over the whole dataset.

Appended rows. A ``results/<year>.csv`` usually changes by rows appended at its end. When the entry's
file (``size`` bytes, SHA-256 ``file``) is a byte prefix of the new file, ends with a line feed, and its
parse ended cleanly between two rows, :mod:`sunshine.loading` reuses the entry's records, problems and
locations and parses only the new bytes, carrying the parser's state over (the records give it back);
the result is exactly a full parse's. When only new results were added, the new entry is the old one
with one more *segment* (the old payload bytes are copied, not encoded again); otherwise, or after
:data:`MAX_SEGMENTS`, everything is written as one segment.

Entry file (``<kind>-<sha256 of the relative path>.bin``)::

    sunshine-data-cache/2\\n
    <JSON key: {"code": …, "file": "<sha256 hex>", "kind": …, "path": …, "size": <bytes>}>\\n
    <sha256 hex of the payload>\\n
    <payload: one or more segments, each an 8-byte big-endian length and that many bytes of pickle>

The payload is pickles written by this module into a directory only this program writes; it is
unpickled only after its SHA-256 matches the header, so a truncated, damaged or half-written entry is
ignored (with a warning), never trusted. Entries are written to a temporary name and renamed.

A segment is a dict: ``records`` (:func:`encode_records`, or the records themselves for plans),
``problems`` (the parse's :class:`~sunshine.errors.Problem` list), ``where`` (the records' locations:
``("lines", record lines, nested item lines)`` as columns of line numbers, 0 for none, or
``("paths", [(index path, (file, location)), …])``) and ``state`` (what a results parse needs to
continue after the segment's last byte, or None).

Records are stored column by column (:func:`encode_records`, :func:`encode_column`): a column with
few distinct values as a table of them and one small integer per record (bytes or an :mod:`array`),
so equal values share one object, as they do after a parse; a column of mostly distinct strings as
one string joined by a separator it does not contain; anything else as a plain list. Columns with
tables of at most 256 values whose combinations are few are stored together, as one table of value
tuples (the *joint* column). Decoding is a handful of C-level passes and one generated constructor
call per record (:func:`_constructor`). Locations are not turned back into ``where`` entries until
the rules look one up (``sunshine.loading._Where``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import pickle
import struct
import sys
from array import array
from operator import attrgetter
from pathlib import Path
from typing import Any, Callable, Iterable

from . import model

MAGIC = b"sunshine-data-cache/2\n"
MAX_SEGMENTS = 32  # appended segments before an entry is written again as one

_SOURCES = ("loading.py", "model.py", "vocabulary.py", "uscc.py", "errors.py", "data_cache.py")
_FRAME = struct.Struct(">Q")


def code_digest() -> str:
    """SHA-256 over the package version, the byte order and the source of the parsing modules."""
    from . import __version__

    here = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode() + b"\0" + sys.byteorder.encode() + b"\0")
    for name in _SOURCES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return h.hexdigest()


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    return file_digests(path)[0]


def file_digests(path: str | os.PathLike[str], cut: int | None = None) -> tuple[str, int, str | None, bytes]:
    """``(sha256 hex, size, sha256 hex of the first *cut* bytes, the byte before *cut*)`` in one read.

    The prefix digest is None (and the byte empty) when *cut* is None or not inside the file.
    """
    h = hashlib.sha256()
    prefix: str | None = None
    before = b""
    done = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if cut is not None and prefix is None and 0 < cut <= done + len(chunk):
                h.update(chunk[: cut - done])
                prefix = h.hexdigest()
                before = chunk[cut - done - 1 : cut - done]
                h.update(chunk[cut - done :])
            else:
                h.update(chunk)
            done += len(chunk)
    if prefix is not None and cut == done:
        prefix = None  # not a proper prefix: the whole file
    return h.hexdigest(), done, prefix, before if prefix is not None else b""


# --------------------------------------------------------------------------- columns
#
# A column is a list of one field's values over the records. Encoded forms:
#   ("list", values)                      anything (the fallback)
#   ("repeat", value, n)                  one value n times
#   ("table", distinct values, typecode, index bytes)   typecode "B" (bytes), "H" or "I" (array)
#   ("joined", separator, text, n)        n strings, none containing the separator

_NoneType = type(None)
_SEPARATORS = ("\x00", "\x1f", "\x1e", "\ufffe")


def _index_typecode(n: int) -> str | None:
    if n <= 256:
        return "B"
    if n <= 65536:
        return "H"
    for code in ("I", "L"):
        if array(code).itemsize == 4:
            return code
    return None  # pragma: no cover - no 4-byte array type


def encode_column(values: list) -> tuple:
    """A small encoded form of *values* that decodes to values equal to them and of the same types
    (a column mixing types other than None is stored as a list)."""
    n = len(values)
    if n == 0:
        return ("list", values)
    types = set(map(type, values))
    has_none = _NoneType in types
    types.discard(_NoneType)
    if len(types) > 1:
        return ("list", values)
    if types == {str} and not has_none:
        sample = values[:4096]
        if len(dict.fromkeys(sample)) * 2 > len(sample):  # mostly distinct strings (codes, names)
            return _joined(values)
    # Shared objects (a parse interns repeated cells; enum members are singletons) are tabled by
    # identity first: no __hash__ or __eq__ calls (an Enum's __hash__ is Python code).
    ids = list(map(id, values))
    by_id = dict(zip(ids, values))
    if len(by_id) * 4 <= n:
        if len(by_id) == 1:
            return ("repeat", values[0], n)
        code = _index_typecode(len(by_id))
        if code is not None:
            index = list(map({k: i for i, k in enumerate(by_id)}.__getitem__, ids))
            raw = bytes(index) if code == "B" else array(code, index).tobytes()
            return ("table", list(by_id.values()), code, raw)
    try:
        distinct = list(dict.fromkeys(values))
    except TypeError:  # unhashable values
        return ("list", values)
    if len(distinct) == 1:
        return ("repeat", distinct[0], n)
    if types == {str} and not has_none and len(distinct) * 4 > n:
        return _joined(values)
    code = _index_typecode(len(distinct))
    if code is None:  # pragma: no cover
        return ("list", values)
    index = list(map({v: i for i, v in enumerate(distinct)}.__getitem__, values))
    raw = bytes(index) if code == "B" else array(code, index).tobytes()
    return ("table", distinct, code, raw)


def _joined(values: list[str]) -> tuple:
    """Strings as one string joined by a separator none of them contains (else a plain list)."""
    n = len(values)
    for sep in _SEPARATORS:
        text = sep.join(values)
        if text.count(sep) == n - 1:
            return ("joined", sep, text, n)
    return ("list", values)


def decode_column(encoded: tuple) -> tuple[Iterable, int]:
    """``(iterable of the values, count)``; the iterable may be consumed once only (an index out of
    the table raises IndexError while it is consumed)."""
    form = encoded[0]
    if form == "list":
        return encoded[1], len(encoded[1])
    if form == "repeat":
        _, value, n = encoded
        return itertools.repeat(value, n), n
    if form == "joined":
        _, sep, text, n = encoded
        values = text.split(sep)
        if len(values) != n:
            raise ValueError(f"expected {n} joined values, got {len(values)}")
        return values, n
    if form == "table":
        _, table, code, raw = encoded
        if code == "B":
            index: Any = raw
        else:
            index = array(code)
            if index.itemsize not in (2, 4):
                raise ValueError(f"expected a 2- or 4-byte index, got {index.itemsize}")
            index.frombytes(raw)
        return map(table.__getitem__, index), len(index)
    raise ValueError(f"expected a column form, got {form!r}")


def encode_ints(values: list[int]) -> tuple[str, bytes]:
    """Non-negative integers below 2**32 (line numbers) as ``(array typecode, bytes)``."""
    code = _index_typecode(max(values, default=0) + 1)
    if code is None or code == "B":
        code = "H" if code == "B" else "q"
    return code, array(code, values).tobytes()


def decode_ints(encoded: tuple[str, bytes]) -> array:
    code, raw = encoded
    if code not in ("H", "I", "L", "q"):
        raise ValueError(f"expected an integer array typecode, got {code!r}")
    out = array(code)
    out.frombytes(raw)
    return out


# --------------------------------------------------------------------------- columnar records
#
# A list of records of one frozen slots dataclass is stored as one column per field (a field holding
# a tuple of records, like ``Result.items``, as the per-record counts and the flattened records,
# stored the same way).

_NESTED = {model.Result: {"items": model.ItemResult}}
_CONSTRUCTORS: dict[tuple[type, tuple[int, ...]], Callable[..., Any]] = {}


def _constructor(cls: type, joint: tuple[int, ...] = ()) -> Callable[..., Any]:
    """``make(*fields)`` building a *cls* (a frozen slots dataclass) without running ``__init__``;
    with *joint* field positions, those fields come last as one tuple (a joint column).

    The object is built as an instance of a plain slots class with the same slots, whose attribute
    stores are the interpreter's fast path, and then given its real class (CPython allows that only
    between classes of the same layout and raises TypeError otherwise: then each slot is set through
    its descriptor instead). About twice as fast as the descriptors for a million targets.
    """
    fn = _CONSTRUCTORS.get((cls, joint))
    if fn is not None:
        return fn
    names = [f.name for f in dataclasses.fields(cls)]
    if hasattr(cls, "__post_init__") or getattr(cls, "__slots__", None) != tuple(names):
        raise TypeError(f"expected a frozen slots dataclass without __post_init__, got {cls.__name__}")
    if sorted(set(joint)) != sorted(joint) or not set(joint) <= set(range(len(names))) or len(joint) == 1:
        raise ValueError(f"expected distinct field positions of {cls.__name__}, got {joint}")
    free = [i for i in range(len(names)) if i not in joint]
    args = ", ".join([f"a{i}" for i in free] + (["p"] if joint else []))
    unpack = f"    {', '.join(f'a{i}' for i in joint)}, = p\n" if joint else ""
    ns: dict[str, Any] = {"new": object.__new__, "cls": cls}
    ns["shadow"] = type(f"_Unfrozen{cls.__name__}", (object,), {"__slots__": tuple(names)})
    stores = "".join(f"    obj.{n} = a{i}\n" for i, n in enumerate(names))
    exec(  # noqa: S102 - generated from the dataclass's own field names
        f"def make({args}):\n{unpack}    obj = new(shadow)\n{stores}    obj.__class__ = cls\n    return obj\n", ns)
    fn = ns["make"]
    probe_args = [*free, *([tuple(joint)] if joint else [])]
    try:
        probe = fn(*probe_args)
        ok = type(probe) is cls and all(getattr(probe, n) == i for i, n in enumerate(names))
    except TypeError:
        ok = False
    if not ok:  # pragma: no cover - a layout CPython does not let us switch
        for i, n in enumerate(names):
            ns[f"s{i}"] = cls.__dict__[n].__set__
        body = "".join(f"    s{i}(obj, a{i})\n" for i in range(len(names)))
        exec(f"def make({args}):\n{unpack}    obj = new(cls)\n{body}    return obj\n", ns)  # noqa: S102
        fn = ns["make"]
    _CONSTRUCTORS[(cls, joint)] = fn
    return fn


def _joint(cols: list[tuple], n: int) -> tuple[tuple[int, ...], tuple] | None:
    """Columns stored as small tables (at most 256 values) whose combinations are few, as one column
    of value tuples: one table lookup per record instead of one per column. None if under two."""
    cand = [i for _, i in sorted((len(c[1]), i) for i, c in enumerate(cols) if c[0] == "table" and c[2] == "B")]
    while len(cand) >= 2:
        keys = list(zip(*(cols[i][3] for i in cand)))
        distinct = dict.fromkeys(keys)
        if len(distinct) <= min(65536, n // 4):
            break
        cand.pop()
    else:
        return None
    tables = [cols[i][1] for i in cand]
    patterns = [tuple(t[k] for t, k in zip(tables, key)) for key in distinct]
    index = list(map({k: j for j, k in enumerate(distinct)}.__getitem__, keys))
    code = _index_typecode(len(patterns))
    raw = bytes(index) if code == "B" else array(code, index).tobytes()
    return tuple(cand), ("table", patterns, code, raw)


def encode_records(cls: type, records: Any) -> tuple:
    """``("cols", class name, count, columns, joint)`` for a sequence of *cls* records: *joint* is
    None or ``(field positions, column of tuples)``, those fields' columns being ``("joint",)``."""
    records = records if isinstance(records, (list, tuple)) else list(records)
    nested = _NESTED.get(cls, {})
    cols: list[tuple] = []
    for f in dataclasses.fields(cls):
        values = list(map(attrgetter(f.name), records))
        if f.name in nested:
            counts = list(map(len, values))
            flat = list(itertools.chain.from_iterable(values))
            cols.append(("nested", encode_column(counts), encode_records(nested[f.name], flat)))
        else:
            cols.append(encode_column(values))
    joint = _joint(cols, len(records))
    if joint is not None:
        for i in joint[0]:
            cols[i] = ("joint",)
    return ("cols", cls.__name__, len(records), cols, joint)


def decode_records(cls: type, encoded: tuple) -> list:
    """The records :func:`encode_records` encoded (equal values, same types); ValueError if the
    encoding does not fit *cls*."""
    form, name, n, cols, joint = encoded
    if form != "cols" or name != cls.__name__:
        raise ValueError(f"expected columns of {cls.__name__}, got {form} of {name}")
    fields = dataclasses.fields(cls)
    if len(cols) != len(fields):
        raise ValueError(f"expected {len(fields)} columns of {cls.__name__}, got {len(cols)}")
    positions = () if joint is None else tuple(joint[0])
    nested = _NESTED.get(cls, {})
    columns = []
    for i, (f, col) in enumerate(zip(fields, cols)):
        if i in positions:
            if col != ("joint",):
                raise ValueError(f"expected {cls.__name__}.{f.name} in the joint column, got {col[0]!r}")
        elif f.name in nested:
            _, counts_col, inner = col
            flat = decode_records(nested[f.name], inner)
            counts, m = decode_column(counts_col)
            counts = list(counts)
            if m != n or sum(counts) != len(flat):
                raise ValueError(f"expected {n} counts summing to {len(flat)}, got {m} summing to {sum(counts)}")
            it = iter(flat)
            columns.append(map(tuple, map(itertools.islice, itertools.repeat(it), counts)))
        else:
            values, m = decode_column(col)
            if m != n:
                raise ValueError(f"expected {n} values of {cls.__name__}.{f.name}, got {m}")
            columns.append(values)
    if joint is not None:
        values, m = decode_column(joint[1])
        if m != n:
            raise ValueError(f"expected {n} joint values of {cls.__name__}, got {m}")
        columns.append(values)
    return list(map(_constructor(cls, positions), *columns))


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=5)


def loads(data: Any) -> Any:
    return pickle.loads(data)


# --------------------------------------------------------------------------- the cache


class Entry:
    """A cache entry as read from disk: its key fields, not yet checked against its checksum."""

    __slots__ = ("path", "key", "code", "file", "size", "_sum", "_payload", "_segments")

    def __init__(self, path: Path, key: dict, stored_sum: bytes, payload: memoryview):
        self.path = path
        self.key = key
        self.code = key.get("code")
        self.file = key.get("file")
        size = key.get("size")
        self.size = size if isinstance(size, int) and not isinstance(size, bool) else -1
        self._sum = stored_sum
        self._payload = payload
        self._segments: list | None = None

    @property
    def payload(self) -> memoryview:
        return self._payload

    def segments(self, warn: Callable[[str], None], rel: str) -> list | None:
        """The unpickled segments, or None after a warning when the checksum or a segment is bad."""
        if self._segments is not None:
            return self._segments
        payload = self._payload
        if hashlib.sha256(payload).hexdigest().encode() != self._sum:
            warn(f"data cache {self.path}: checksum mismatch (damaged or truncated); ignored, parsing {rel} again")
            return None
        out = []
        pos = 0
        try:
            while pos < len(payload):
                (n,) = _FRAME.unpack_from(payload, pos)
                pos += _FRAME.size
                if pos + n > len(payload):
                    raise ValueError("segment runs past the payload")
                out.append(loads(payload[pos : pos + n]))
                pos += n
            if not out:
                raise ValueError("no segment")
        except Exception as exc:  # noqa: BLE001 - a checksummed entry we cannot read is still only a miss
            warn(f"data cache {self.path}: unreadable ({type(exc).__name__}); ignored, parsing {rel} again")
            return None
        self._segments = out
        return out


def _frame(value: Any) -> bytes:
    data = dumps(value)
    return _FRAME.pack(len(data)) + data


class DataCache:
    """Parsed files under *directory*; *warn* receives a message for each entry it had to ignore.

    ``hits``, ``extended`` (entries reused for a file that grew by appended rows) and ``misses``
    list the relative paths each load found in each state, for tests and reports.
    """

    def __init__(self, directory: str | os.PathLike[str], warn: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.warn = warn or (lambda msg: None)
        self.code = code_digest()
        self.hits: list[str] = []
        self.extended: list[str] = []
        self.misses: list[str] = []

    def _entry(self, kind: str, rel: str) -> Path:
        return self.directory / f"{kind}-{hashlib.sha256(rel.encode()).hexdigest()[:32]}.bin"

    def key(self, kind: str, rel: str, digest: str, size: int) -> dict:
        return {"code": self.code, "file": digest, "kind": kind, "path": rel, "size": size}

    @staticmethod
    def _key_bytes(key: dict) -> bytes:
        return json.dumps(key, sort_keys=True, separators=(",", ":")).encode()

    def lookup(self, kind: str, rel: str) -> Entry | None:
        """The entry stored for *rel* whatever file it was made from; None (with a warning when it
        exists but is not a readable entry) otherwise. Its payload is checked by ``segments()``."""
        path = self._entry(kind, rel)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.warn(f"data cache {path}: cannot read it ({exc.strerror or exc}); parsing {rel} again")
            return None
        end_key = raw.find(b"\n", len(MAGIC))
        end_sum = raw.find(b"\n", end_key + 1) if end_key >= 0 else -1
        key = None
        if raw.startswith(MAGIC) and end_sum >= 0:
            try:
                key = json.loads(raw[len(MAGIC) : end_key])
            except ValueError:
                key = None
        if not isinstance(key, dict) or key.get("kind") != kind or key.get("path") != rel:
            self.warn(f"data cache {path}: not a cache entry (damaged or truncated); ignored, parsing {rel} again")
            return None
        return Entry(path, key, raw[end_key + 1 : end_sum], memoryview(raw)[end_sum + 1 :])

    def get(self, kind: str, rel: str, digest: str, size: int) -> list | None:
        """The cached segments for *rel* with content *digest* (*size* bytes), or None (miss, stale or
        damaged: recorded in ``misses``) — the simple form of :meth:`lookup`."""
        entry = self.lookup(kind, rel)
        if entry is None or entry.key != self.key(kind, rel, digest, size):
            self.misses.append(rel)
            return None
        segments = entry.segments(self.warn, rel)
        (self.misses if segments is None else self.hits).append(rel)
        return segments

    def put(self, kind: str, rel: str, digest: str, size: int, segments: list) -> None:
        """Store *segments* for the file *rel* (*digest*, *size*); a cache that cannot be written only
        costs a parse next time."""
        self._write(kind, rel, self.key(kind, rel, digest, size), [b"".join(map(_frame, segments))])

    def extend(self, entry: Entry, kind: str, rel: str, digest: str, size: int, segment: Any) -> None:
        """Store *entry*'s segments (its payload bytes as they are) and one more, for the grown file."""
        self._write(kind, rel, self.key(kind, rel, digest, size), [entry.payload, _frame(segment)])

    def _write(self, kind: str, rel: str, key: dict, parts: list) -> None:
        path = self._entry(kind, rel)
        h = hashlib.sha256()
        for p in parts:
            h.update(p)
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(MAGIC + self._key_bytes(key) + b"\n" + h.hexdigest().encode() + b"\n")
                for p in parts:
                    f.write(p)
            os.replace(tmp, path)
        except OSError as exc:
            self.warn(f"data cache {path}: cannot write it ({exc.strerror or exc})")
            try:
                os.unlink(tmp)
            except OSError:
                pass
