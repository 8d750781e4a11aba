"""A cache of parsed data files, kept beside the build output (``<output>.cache/data/``), never in it.

``sunshine build`` parses ``targets.csv`` (a million rows at province scale), ``inspectors.csv``, each
``plans/<year>.yaml`` (thousands of tasks: PyYAML is slow) and each ``results/<year>.csv`` into records
on every build; with a :class:`DataCache` an unchanged file is not parsed again: its records, the
problems found while parsing and the records' locations (for the rules' messages) come from the cache.

Key and invalidation. An entry is looked up by the file's path relative to the data directory and is
valid only for the same **SHA-256 of the file's bytes** and the same **code digest** (SHA-256 of the
source of the modules that parse: ``loading``, ``model``, ``vocabulary``, ``uscc``, ``errors`` and this
one). A changed byte, a changed parser or a new package version is a miss: the file is read and
checked again. The cross-file rules (:func:`sunshine.rules.check_dataset`) are never cached; they run on
every build over the whole dataset.

Entry file (``<kind>-<sha256 of the relative path>.bin``)::

    sunshine-data-cache/1\\n
    <JSON key: {"code": …, "file": "<sha256 hex>", "kind": …, "path": …}>\\n
    <sha256 hex of the payload>\\n
    <payload: pickle>

The payload is a pickle written by this module into a directory only this program writes; it is
unpickled only after its SHA-256 matches the header, so a truncated, damaged or half-written entry is
ignored (with a warning), never trusted. Entries are written to a temporary name and renamed.
Records are stored column by column (:func:`encode_records`), which unpickles several times faster
than pickling the frozen dataclasses themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable

from . import model

MAGIC = b"sunshine-data-cache/1\n"

_SOURCES = ("loading.py", "model.py", "vocabulary.py", "uscc.py", "errors.py", "data_cache.py")


def code_digest() -> str:
    """SHA-256 over the package version and the source of the parsing modules."""
    from . import __version__

    here = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode() + b"\0")
    for name in _SOURCES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return h.hexdigest()


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- columnar records
#
# A list of records of one frozen slots dataclass is stored as one list per field (a field holding
# a tuple of records, like ``Result.items``, as the per-record counts and the flattened records,
# stored the same way). Unpickling lists of strings and rebuilding the objects through their slot
# descriptors is several times faster than pickling the objects themselves.

_NESTED = {model.Result: {"items": model.ItemResult}}
_CONSTRUCTORS: dict[type, Callable[..., Any]] = {}


def _constructor(cls: type) -> Callable[..., Any]:
    """``cls(*fields)`` without ``__init__``: one function with a slot-descriptor call per field."""
    fn = _CONSTRUCTORS.get(cls)
    if fn is None:
        names = [f.name for f in dataclasses.fields(cls)]
        ns: dict[str, Any] = {"new": object.__new__, "cls": cls}
        for i, n in enumerate(names):
            ns[f"s{i}"] = cls.__dict__[n].__set__
        args = ", ".join(f"a{i}" for i in range(len(names)))
        body = "".join(f"    s{i}(obj, a{i})\n" for i in range(len(names)))
        exec(f"def make({args}):\n    obj = new(cls)\n{body}    return obj\n", ns)  # noqa: S102 - generated from field names
        fn = _CONSTRUCTORS[cls] = ns["make"]
    return fn


def encode_records(cls: type, records: Any) -> tuple:
    """``(class name, columns)`` for a sequence of *cls* records."""
    nested = _NESTED.get(cls, {})
    cols = []
    for f in dataclasses.fields(cls):
        values = [getattr(r, f.name) for r in records]
        if f.name in nested:
            cols.append((len(v) for v in values))
            cols[-1] = ("nested", list(cols[-1]), encode_records(nested[f.name], [x for v in values for x in v]))
        else:
            cols.append(values)
    return (cls.__name__, cols)


def decode_records(cls: type, encoded: tuple) -> list:
    name, cols = encoded
    if name != cls.__name__:
        raise ValueError(f"expected records of {cls.__name__}, got {name}")
    nested = _NESTED.get(cls, {})
    columns = []
    for f, col in zip(dataclasses.fields(cls), cols):
        if f.name in nested:
            _, counts, inner = col
            flat = decode_records(nested[f.name], inner)
            out, pos = [], 0
            for n in counts:
                out.append(tuple(flat[pos:pos + n]))
                pos += n
            columns.append(out)
        else:
            columns.append(col)
    return list(map(_constructor(cls), *columns))


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=5)


def loads(data: bytes) -> Any:
    return pickle.loads(data)


# --------------------------------------------------------------------------- the cache


class DataCache:
    """Parsed files under *directory*; *warn* receives a message for each entry it had to ignore."""

    def __init__(self, directory: str | os.PathLike[str], warn: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.warn = warn or (lambda msg: None)
        self.code = code_digest()
        self.hits: list[str] = []
        self.misses: list[str] = []

    def _entry(self, kind: str, rel: str) -> Path:
        return self.directory / f"{kind}-{hashlib.sha256(rel.encode()).hexdigest()[:32]}.bin"

    def _key(self, kind: str, rel: str, digest: str) -> bytes:
        return json.dumps({"code": self.code, "file": digest, "kind": kind, "path": rel},
                          sort_keys=True, separators=(",", ":")).encode()

    def get(self, kind: str, rel: str, digest: str) -> Any | None:
        """The cached value for *rel* with content *digest*, or None (miss, stale or damaged)."""
        path = self._entry(kind, rel)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self.misses.append(rel)
            return None
        except OSError as exc:
            self.warn(f"data cache {path}: cannot read it ({exc.strerror or exc}); parsing {rel} again")
            self.misses.append(rel)
            return None
        key = self._key(kind, rel, digest)
        head, sep, rest = raw.partition(b"\n")
        stored_key, sep2, rest = rest.partition(b"\n")
        stored_sum, sep3, payload = rest.partition(b"\n")
        if head + b"\n" != MAGIC or not (sep and sep2 and sep3):
            self.warn(f"data cache {path}: not a cache entry (damaged or truncated); ignored, parsing {rel} again")
            self.misses.append(rel)
            return None
        if stored_key != key:
            self.misses.append(rel)  # the file (or the parser) changed: an ordinary miss
            return None
        if hashlib.sha256(payload).hexdigest().encode() != stored_sum:
            self.warn(f"data cache {path}: checksum mismatch (damaged or truncated); ignored, parsing {rel} again")
            self.misses.append(rel)
            return None
        try:
            value = loads(payload)
        except Exception as exc:  # noqa: BLE001 - a checksummed entry we cannot read is still only a miss
            self.warn(f"data cache {path}: unreadable ({type(exc).__name__}); ignored, parsing {rel} again")
            self.misses.append(rel)
            return None
        self.hits.append(rel)
        return value

    def put(self, kind: str, rel: str, digest: str, value: Any) -> None:
        """Store *value*; a cache that cannot be written only costs a parse next time."""
        path = self._entry(kind, rel)
        payload = dumps(value)
        data = MAGIC + self._key(kind, rel, digest) + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            self.warn(f"data cache {path}: cannot write it ({exc.strerror or exc})")
            try:
                os.unlink(tmp)
            except OSError:
                pass
