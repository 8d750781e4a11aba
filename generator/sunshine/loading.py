"""Strict loading of a data directory (``data/``) into a :class:`sunshine.model.Dataset`.

The format is specified in ``docs/data-format.md``. Loading is strict and reports *every* problem at
once: each :class:`~sunshine.errors.Problem` names the file, the line (CSV: 1-based physical line, the
header is line 1) or the entry path with its YAML line (``versions[0].tasks[3].strata[0] (line 42)``),
the field, what was expected and what was found.

Public API:

``load_dataset(path) -> Dataset``
    Raises :class:`~sunshine.errors.DataError` carrying all problems (errors *and* warnings) when there
    is at least one error; warnings alone do not stop loading.
``load_dataset_with_warnings(path) -> (Dataset, list[Problem])``
    The same, and also returns the warnings (USCC check characters, late publication, …).
``validate_directory(path) -> Validation``
    Never raises for bad data: returns the dataset (``None`` when a file could not be read into records)
    and every problem. This is what ``sunshine validate`` prints.

Two phases: first every file is parsed into records (syntax, types, vocabularies, duplicates, USCC);
when that succeeds, :func:`sunshine.rules.check_dataset` checks the cross-file rules of design-notes §2.
A record with a parse error is left out, so the rule phase only runs on a fully parsed directory
(otherwise a dropped record would cause follow-on "unknown id" findings).

YAML is read with PyYAML's safe loader (no tags, no object construction); ratios are exact
:class:`~fractions.Fraction` values (``"5%"``, ``"1/20"``, ``"0.05"``; a YAML float is read through its
shortest decimal ``repr``). CSV files are read with the :mod:`csv` module, UTF-8 with or without BOM,
any line ending; the hot path (``targets.csv`` with a million rows) uses dictionary lookups and caches
instead of per-row regular expressions.
"""

from __future__ import annotations

import csv
import difflib
import functools
import gc
import io
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import yaml

from . import model, uscc
from .errors import DataError, Problem, SunshineError
from .vocabulary import (
    ApproverRole,
    CreditClass,
    InspectorStatus,
    ItemClass,
    Method,
    NoticeMode,
    PendingSubCode,
    PersonType,
    RegistrationStatus,
    ResultCode,
    TargetFlag,
    TargetKind,
    Vocab,
)
from .workdays import OVERRIDES_FILE, Calendar, Overrides

if TYPE_CHECKING:
    from .data_cache import DataCache

JURISDICTION_FILE = "jurisdiction.yaml"
ITEMS_FILE = "items.yaml"
TARGETS_FILE = "targets.csv"
INSPECTORS_FILE = "inspectors.csv"
PLANS_DIR = "plans"
RESULTS_DIR = "results"

# --------------------------------------------------------------------------- result objects


@dataclass(frozen=True, slots=True)
class Validation:
    """Everything ``validate_directory`` found. ``dataset`` is None when parsing failed somewhere."""

    path: str
    dataset: model.Dataset | None
    problems: tuple[Problem, ...]
    calendar: Calendar | None = None
    # validate_directory(..., defer_rules=True): the §2 rules, not yet run (returns their problems)
    rules_pending: Callable[[], list[Problem]] | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def load_dataset(path: str | os.PathLike[str], *, cache: "DataCache | None" = None) -> model.Dataset:
    """Load and check a data directory; raise DataError (with every problem) if anything is wrong.

    With a :class:`~sunshine.data_cache.DataCache`, unchanged big files (targets, inspectors,
    results) come from the cache instead of being parsed again; the rules always run.
    """
    return load_dataset_with_warnings(path, cache=cache)[0]


def load_dataset_with_warnings(
    path: str | os.PathLike[str], *, cache: "DataCache | None" = None
) -> tuple[model.Dataset, list[Problem]]:
    """Like :func:`load_dataset`, and also return the warnings ("check" findings)."""
    v = validate_directory(path, cache=cache)
    if v.errors or v.dataset is None:
        raise DataError(list(v.problems), hint=f"run `sunshine validate {v.path}` for the full report")
    return v.dataset, v.warnings


def load_dataset_deferring_rules(
    path: str | os.PathLike[str], *, cache: "DataCache | None" = None
) -> tuple[model.Dataset, Callable[[], None]]:
    """:func:`load_dataset` without its last step, the §2 rules: returns the dataset and a function
    that checks them and raises :class:`DataError` exactly as :func:`load_dataset` would have (same
    problems, same order). For a caller that checks the rules in another process while it goes on
    with the data (``sunshine build``); it must publish nothing before that function has returned."""
    v = validate_directory(path, cache=cache, defer_rules=True)
    if v.errors or v.dataset is None:
        raise DataError(list(v.problems), hint=f"run `sunshine validate {v.path}` for the full report")
    pending = v.rules_pending

    def check() -> None:
        problems = list(v.problems) + (pending() if pending is not None else [])
        if any(p.severity == "error" for p in problems):
            raise DataError(problems, hint=f"run `sunshine validate {v.path}` for the full report")

    return v.dataset, check


def validate_directory(
    path: str | os.PathLike[str], *, cache: "DataCache | None" = None, defer_rules: bool = False
) -> Validation:
    """Parse every file of a data directory and check the rules; never raises for bad data.

    Raises :class:`~sunshine.errors.SunshineError` only when *path* is not a directory. *cache*
    (:mod:`sunshine.data_cache`) supplies the parsed records of unchanged CSV files. With
    *defer_rules*, the rules are not run: ``rules_pending()`` of the result runs them and returns
    their problems (see :func:`load_dataset_deferring_rules`).
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise SunshineError(
            f"data directory {root!r} does not exist or is not a directory",
            hint="create one with `sunshine demo-data --out DIR`, or pass the right path",
        )
    problems: list[Problem] = []

    calendar: Calendar | None = Calendar()
    if os.path.exists(os.path.join(root, OVERRIDES_FILE)):
        ov = load_calendar_overrides(os.path.join(root, OVERRIDES_FILE), OVERRIDES_FILE, problems)
        calendar = Calendar(ov) if ov is not None else None

    where: dict[int, tuple[str, str]] = _Where()
    # A million records and no cycles among them: the cyclic GC's passes over them while they are
    # built (and, between files, over the previous files' records) would be wasted.
    paused = gc.isenabled()
    gc.disable()
    try:
        jur = _load_jurisdiction(root, problems, where)
        items = _load_items(root, problems, where)
        targets = _through_cache(cache, root, TARGETS_FILE, "targets",
                                 lambda p, w: _load_targets(root, p, w), problems, where)
        inspectors = _through_cache(cache, root, INSPECTORS_FILE, "inspectors",
                                    lambda p, w: _load_inspectors(root, p, w), problems, where)
        plans = _load_plans(root, problems, where, cache)
        results = _load_results(root, problems, where, cache)
    finally:
        if paused:
            gc.enable()

    dataset = None
    if not any(p.severity == "error" for p in problems) and jur is not None and items is not None:
        dataset = model.Dataset(
            jurisdiction=jur,
            items=items,
            targets=targets or (),
            inspectors=inspectors or (),
            plans=plans,
            results=results,
        )
        from . import rules  # rules imports nothing from here; imported late to keep startup light

        def run_rules(dataset: model.Dataset = dataset) -> list[Problem]:
            return rules.check_dataset(dataset, calendar=calendar, where=where)

        if defer_rules:
            return Validation(root, dataset, tuple(problems), calendar, run_rules)
        problems.extend(run_rules())
    return Validation(root, dataset, tuple(problems), calendar)


# --------------------------------------------------------------------------- parsed-file cache


class _Where(dict):
    """``id(record) -> (file, location)`` for the rules' messages (a dict).

    Locations of records that came from the data cache are added by ``defer``-red fills, run one at
    a time on the first lookups that miss: a province's results have ~600,000 located records, and
    the rules look up each result (for its file) but an item only when they report it, so the item
    fills (``late``) come after every other. The fills keep their records alive, so their ids stay
    theirs. ``validate_directory`` builds this; the rules only call ``get``.
    """

    __slots__ = ("_pending", "_late")

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[Callable[[], Iterable[tuple[int, tuple[str, str]]]]] = []
        self._late: list[Callable[[], Iterable[tuple[int, tuple[str, str]]]]] = []

    def defer(self, fill: Callable[[], Iterable[tuple[int, tuple[str, str]]]], *, late: bool = False) -> None:
        (self._late if late else self._pending).append(fill)

    def _fill_next(self) -> bool:
        queue = self._pending or self._late
        if not queue:
            return False
        dict.update(self, queue.pop(0)())
        return True

    def _fill(self) -> bool:
        filled = False
        while self._fill_next():
            filled = True
        return filled

    def get(self, key: Any, default: Any = None) -> Any:
        v = dict.get(self, key, _MISS)
        while v is _MISS and self._fill_next():
            v = dict.get(self, key, _MISS)
        return default if v is _MISS else v

    def __missing__(self, key: Any) -> Any:
        v = self.get(key, _MISS)
        if v is _MISS:
            raise KeyError(key)
        return v

    def __contains__(self, key: Any) -> bool:
        return self.get(key, _MISS) is not _MISS

    def __bool__(self) -> bool:
        return bool(self._pending or self._late) or dict.__len__(self) > 0

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __iter__(self) -> Iterator[Any]:
        self._fill()
        return dict.__iter__(self)

    def __eq__(self, other: object) -> bool:
        self._fill()
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def keys(self):  # type: ignore[override]
        self._fill()
        return dict.keys(self)

    def values(self):  # type: ignore[override]
        self._fill()
        return dict.values(self)

    def items(self):  # type: ignore[override]
        self._fill()
        return dict.items(self)

    def copy(self) -> dict:  # type: ignore[override]
        self._fill()
        return dict(dict.items(self))

    def pop(self, *args: Any) -> Any:
        self._fill()
        return dict.pop(self, *args)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._fill()
        return dict.setdefault(self, key, default)


_CACHED_CLASSES = {"targets": model.Target, "inspectors": model.Inspector, "results": model.Result}


def _through_cache(cache: "DataCache | None", root: str, rel: str, kind: str,
                   parse: Callable[[list[Problem], dict], Any], problems: list[Problem], where: dict) -> Any:
    """``parse(problems, where)`` for the file *rel*, or its records, problems and locations from
    *cache* when the file's SHA-256 (and the parser's code) are unchanged.

    A *parse* with a ``resume`` method (results files) can also continue from a cached entry whose
    file is a prefix of this one (rows appended): the records, problems and locations are exactly a
    full parse's. The cyclic GC is paused meanwhile: records hold no cycles, and its full passes over
    a million fresh objects would cost more than decoding them.
    """
    if cache is None:
        return parse(problems, where)
    paused = gc.isenabled()
    gc.disable()
    try:
        return _cached_parse(cache, root, rel, kind, parse, problems, where)
    finally:
        if paused:
            gc.enable()


def _cached_parse(cache: "DataCache", root: str, rel: str, kind: str,
                  parse: Callable[[list[Problem], dict], Any], problems: list[Problem], where: dict) -> Any:
    from .data_cache import MAX_SEGMENTS, file_digests

    path = os.path.join(root, rel)
    try:
        before = os.stat(path)
    except OSError:
        cache.misses.append(rel)
        return parse(problems, where)  # missing or unreadable: the parser reports it
    entry = cache.lookup(kind, rel)
    resume = getattr(parse, "resume", None)
    cut = None
    if entry is not None and resume is not None and entry.code == cache.code and 0 < entry.size < before.st_size:
        cut = entry.size
    try:
        digest, size, prefix, last = file_digests(path, cut)
    except OSError:
        cache.misses.append(rel)
        return parse(problems, where)

    def unchanged() -> bool:
        try:
            after = os.stat(path)
        except OSError:
            return False
        return size == before.st_size and \
            (before.st_size, before.st_mtime_ns, before.st_ino) == (after.st_size, after.st_mtime_ns, after.st_ino)

    if entry is not None and entry.key == cache.key(kind, rel, digest, size):
        segments = entry.segments(cache.warn, rel)
        got = None if segments is None else _from_segments(cache, rel, kind, segments)
        if got is not None:
            records, found, locs = got
            problems.extend(found)
            _defer_where(where, rel, records, locs)
            cache.hits.append(rel)
            return records
    elif entry is not None and prefix is not None and prefix == entry.file and last == b"\n":
        segments = entry.segments(cache.warn, rel)
        got = None if segments is None else _from_segments(cache, rel, kind, segments)
        state = None if got is None else segments[-1].get("state")
        if got is not None and state is not None and got[2][0] == "lines":
            old, found, locs = got
            tail: list[Problem] = []
            try:
                grown = resume(cut, state, old, locs, tail)
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
                # a checksummed entry whose state does not fit this parser: only a miss
                cache.warn(f"data cache entry for {rel}: unusable ({type(exc).__name__}: {exc}); parsing it again")
                grown = None
            if grown is not None:  # else the new bytes cannot be read on their own: a full parse below
                records, all_locs, new_locs, new_state, appended_only = grown
                problems.extend(found)
                problems.extend(tail)
                _defer_where(where, rel, records, all_locs)
                cache.extended.append(rel)
                if unchanged():
                    if appended_only and len(segments) < MAX_SEGMENTS:
                        cache.extend(entry, kind, rel, digest, size,
                                     _segment(kind, records[len(old):], tail, new_locs, new_state))
                    else:
                        cache.put(kind, rel, digest, size, [_segment(kind, records, found + tail, all_locs, new_state)])
                return records
    cache.misses.append(rel)
    found = []
    mine: dict = {}
    records = parse(found, mine)
    problems.extend(found)
    where.update(mine)
    if unchanged():
        locs = getattr(parse, "locations", None) or _locations(kind, rel, records, mine)
        cache.put(kind, rel, digest, size, [_segment(kind, records, found, locs, getattr(parse, "state", None))])
    return records


def _segment(kind: str, records: Any, problems: list[Problem], locs: tuple, state: Any) -> dict:
    """One cache segment (see :mod:`sunshine.data_cache`) for *records* of *kind*."""
    from .data_cache import encode_ints, encode_records

    if records is None:
        encoded = None
    elif kind in _CACHED_CLASSES:
        encoded = encode_records(_CACHED_CLASSES[kind], records)
    else:  # plans: a few thousand nested records, stored as they are
        encoded = ("objects", list(records))
    if locs[0] == "lines":
        locs = ("lines", encode_ints(locs[1]), None if locs[2] is None else encode_ints(locs[2]))
    return {"records": encoded, "problems": list(problems), "where": locs, "state": state}


def _from_segments(cache: "DataCache", rel: str, kind: str, segments: list) -> tuple[Any, list[Problem], tuple] | None:
    """``(records, problems, locations)`` from an entry's segments, or None after a warning."""
    from .data_cache import decode_ints, decode_records

    try:
        records: Any = []
        found: list[Problem] = []
        rlines: list[int] = []
        ilines: list[int] | None = None
        locs: tuple = ("none",)
        for n, seg in enumerate(segments):
            encoded = seg["records"]
            if encoded is None:
                if len(segments) != 1:
                    raise ValueError("expected records in every segment")
                recs = None
            elif encoded[0] == "objects":
                recs = encoded[1]
            else:
                recs = decode_records(_CACHED_CLASSES[kind], encoded)
            found.extend(seg["problems"])
            w = seg["where"]
            if w[0] == "lines":
                rl = decode_ints(w[1])
                il = None if w[2] is None else decode_ints(w[2])
                if len(rl) != len(recs or ()):
                    raise ValueError(f"expected {len(recs or ())} record lines, got {len(rl)}")
                if il is not None and len(il) != sum(map(len, map(attrgetter("items"), recs or ()))):
                    raise ValueError("expected one line per item")
                rlines.extend(rl)
                if il is not None:
                    ilines = [] if ilines is None else ilines
                    ilines.extend(il)
                locs = ("lines", rlines, ilines)
            elif w[0] == "paths":
                if len(segments) != 1:
                    raise ValueError("expected one segment with located paths")
                locs = ("objects", [(_walk(recs, p), loc) for p, loc in w[1]])
            elif w[0] != "none" or n:
                raise ValueError(f"expected locations, got {w[0]!r}")
            if recs is None:
                records = None
            else:
                records.extend(recs)
        if records is not None and kind in ("targets", "inspectors"):
            records = tuple(records)
        return records, found, locs
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        cache.warn(f"data cache entry for {rel}: unusable ({type(exc).__name__}: {exc}); parsing it again")
        return None


def _defer_where(where: dict, rel: str, records: Any, locs: tuple) -> None:
    """Add the locations *locs* of *records* to *where* (deferred when it can)."""
    if locs[0] == "none" or not records:
        return
    if locs[0] == "objects":
        located = locs[1]

        def fill() -> Iterable[tuple[int, tuple[str, str]]]:
            return [(id(obj), loc) for obj, loc in located]
        fills = [(fill, False)]
    else:
        _, rlines, ilines = locs

        def fill() -> Iterable[tuple[int, tuple[str, str]]]:
            return [(id(r), (rel, f"line {n}")) for r, n in zip(records, rlines) if n]

        def fill_items() -> Iterable[tuple[int, tuple[str, str]]]:
            items = itertools.chain.from_iterable(map(attrgetter("items"), records))
            return [(id(it), (rel, f"line {n}")) for it, n in zip(items, ilines) if n]

        fills = [(fill, False)] if ilines is None else [(fill, False), (fill_items, True)]
    defer = getattr(where, "defer", None)
    for f, late in fills:
        if defer is None:
            where.update(f())
        else:
            defer(f, late=late)


def _line_number(loc: Any, rel: str) -> int:
    """The line of ``(rel, "line N")``, 0 for no location, -1 for any other location."""
    if loc is None:
        return 0
    if type(loc) is tuple and len(loc) == 2 and loc[0] == rel and type(loc[1]) is str and loc[1].startswith("line "):
        digits = loc[1][5:]
        if digits.isascii() and digits.isdigit() and digits[0] != "0":
            return int(digits)
    return -1


def _locations(kind: str, rel: str, records: Any, mine: dict) -> tuple:
    """How a segment stores the locations *mine* gave *records*: ``("none",)``, ``("lines", record
    lines, item lines)`` when every location is ``(rel, "line N")``, else ``("paths", …)``."""
    if not mine or not records:
        return ("none",)
    if kind != "plans":
        rlines = [_line_number(mine.get(id(r)), rel) for r in records]
        ilines = None
        if kind == "results":
            ilines = [_line_number(mine.get(id(it)), rel) for r in records for it in r.items]
        if min(rlines, default=0) >= 0 and min(ilines or (0,)) >= 0:
            return ("lines", rlines, ilines)
    locs: list[tuple[tuple, Any]] = []
    for i, rec in enumerate(records):
        _locate(rec, (i,), mine, locs)
    return ("paths", locs)


# Nested records that loading locates for messages (``where``): results' items, plans' versions and tasks.
_LOCATED_CHILDREN = {model.Result: ("items",), model.Plan: ("versions",), model.PlanVersion: ("tasks",)}


def _locate(rec: Any, path: tuple, mine: dict, out: list) -> None:
    if id(rec) in mine:
        out.append((path, mine[id(rec)]))
    for attr in _LOCATED_CHILDREN.get(type(rec), ()):
        for k, child in enumerate(getattr(rec, attr)):
            _locate(child, (*path, attr, k), mine, out)


def _walk(records: Any, path: tuple) -> Any:
    obj = records[path[0]]
    for attr, k in zip(path[1::2], path[2::2]):
        obj = getattr(obj, attr)[k]
    return obj


# --------------------------------------------------------------------------- value converters
#
# Each converter takes a parsed YAML value (or a CSV cell) and returns the typed value, or raises
# ValueError("expected …, got …"). The caller adds file, location and field.


def _show(v: Any) -> str:
    """A short description of a found value, for 'got …' messages."""
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, datetime):
        return f"the timestamp {v.isoformat()}"
    if isinstance(v, date):
        return f"the date {v.isoformat()}"
    if isinstance(v, str):
        return repr(v) if len(v) <= 60 else repr(v[:57] + "…")
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__


def _str(v: Any) -> str:
    if not isinstance(v, str):
        hint = f' (quote it: "{v}")' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
        raise ValueError(f"expected a string{hint}, got {_show(v)}")
    return v


def _text(v: Any) -> str:
    """A non-empty string."""
    s = _str(v)
    if not s.strip():
        raise ValueError(f"expected a non-empty text, got {_show(v)}")
    return s


def _opt_text(v: Any) -> str:
    """A string that may be empty (null counts as empty)."""
    return "" if v is None else _str(v)


_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _slug(v: Any) -> str:
    s = _str(v)
    if not _SLUG.fullmatch(s):
        raise ValueError(f"expected a lowercase ASCII id (a-z, 0-9, '-', '_'), got {_show(s)}")
    return s


def _item_id(v: Any) -> str:
    s = _str(v)
    if not _ITEM_ID.fullmatch(s):
        raise ValueError(f"expected an item id of ASCII letters, digits and '-', got {_show(s)}")
    return s


def _task_id(v: Any) -> str:
    s = _str(v)
    if not _TASK_ID.fullmatch(s):
        raise ValueError(f"expected a task id of ASCII letters, digits, '.', '_' and '-', got {_show(s)}")
    return s


def _int(v: Any, *, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {_show(v)}")
    if minimum is not None and v < minimum:
        raise ValueError(f"expected an integer >= {minimum}, got {v}")
    return v


def _int_min(minimum: int) -> Callable[[Any], int]:
    return lambda v: _int(v, minimum=minimum)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"expected true or false, got {_show(v)}")
    return v


def _date_str(s: str) -> date:
    """Strict ``YYYY-MM-DD`` (date.fromisoformat alone would also take ``20250101``)."""
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
        try:
            return date.fromisoformat(s)
        except ValueError:
            raise ValueError(f"expected a valid date YYYY-MM-DD, got {_show(s)} (no such day)") from None
    raise ValueError(f"expected a date YYYY-MM-DD, got {_show(s)}")


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        raise ValueError(f"expected a date YYYY-MM-DD, got {_show(v)}")
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        return _date_str(v)
    raise ValueError(f"expected a date YYYY-MM-DD, got {_show(v)}")


def parse_ratio(v: Any) -> Fraction:
    """An exact ratio in (0, 1]: ``"5%"``, ``"1/20"``, ``"0.05"``, ``0.05`` (via its shortest repr), ``1``."""
    if isinstance(v, bool):
        raise ValueError(f"expected a ratio such as '5%', '1/20' or '0.05', got {_show(v)}")
    if isinstance(v, int):
        r = Fraction(v)
    elif isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"expected a ratio such as '5%', '1/20' or '0.05', got {_show(v)}")
        r = Fraction(repr(v))  # the shortest decimal that round-trips: 0.05 -> 1/20 exactly
    elif isinstance(v, str):
        s = v.strip()
        try:
            if s.endswith("%"):
                body = s[:-1].strip()
                if not body or not all(c.isdigit() or c == "." for c in body) or not body.isascii():
                    raise ValueError
                r = Fraction(body) / 100
            elif "/" in s:
                num, _, den = s.partition("/")
                if not (num.isascii() and num.isdigit() and den.isascii() and den.isdigit()):
                    raise ValueError
                r = Fraction(int(num), int(den))
            else:
                if not s or not s.isascii() or not all(c.isdigit() or c == "." for c in s):
                    raise ValueError
                r = Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a ratio such as '5%', '1/20' or '0.05', got {_show(v)}") from None
    else:
        raise ValueError(f"expected a ratio such as '5%', '1/20' or '0.05', got {_show(v)}")
    if not 0 < r <= 1:
        raise ValueError(f"expected a ratio in (0, 1], got {_show(v)}")
    return r


@functools.lru_cache(maxsize=None)
def _enum(E: type[Vocab]) -> Callable[[Any], Vocab]:
    table = {m.value: m for m in E}
    allowed = ", ".join(table)

    def conv(v: Any) -> Vocab:
        m = table.get(v) if isinstance(v, str) else None
        if m is None:
            raise ValueError(f"expected one of {allowed}, got {_show(v)}")
        return m

    return conv


def _list(conv: Callable[[Any], Any], *, nonempty: bool = False, unique: bool = True) -> Callable[[Any], tuple]:
    def lconv(v: Any) -> tuple:
        if v is None and not nonempty:
            return ()
        if not isinstance(v, list):
            raise ValueError(f"expected a list, got {_show(v)}")
        if nonempty and not v:
            raise ValueError("expected a non-empty list, got an empty list")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(conv(x))
            except ValueError as exc:
                raise ValueError(f"element [{i}]: {exc}") from None
        if unique:
            seen: set = set()
            for i, x in enumerate(out):
                if x in seen:
                    raise ValueError(f"element [{i}]: expected each value once, got {_show(str(x))} again")
                seen.add(x)
        return tuple(out)

    return lconv


def _digits(lo: int, hi: int, what: str) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        s = _str(v)
        if not (lo <= len(s) <= hi and s.isascii() and s.isdigit()):
            n = f"{lo}" if lo == hi else f"{lo}–{hi}"
            raise ValueError(f"expected {what} of {n} digits, got {_show(s)}")
        return s

    return conv


def _industry_prefix(v: Any) -> str:
    s = _str(v)
    if not _industry_ok(s):
        raise ValueError(f"expected a GB/T 4754 code such as 'F52' or 'F5211', got {_show(s)}")
    return s


def _industry_ok(s: str) -> bool:
    return 1 <= len(s) <= 5 and "A" <= s[0] <= "T" and s[1:].isascii() and (s[1:].isdigit() or len(s) == 1)


def _mmdd(v: Any) -> str:
    s = _str(v)
    ok = len(s) == 5 and s[2] == "-" and s[:2].isdigit() and s[3:].isdigit() and s.isascii()
    if ok:
        try:
            date(2024, int(s[:2]), int(s[3:]))  # a leap year: 02-29 is allowed
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"expected a day of the year MM-DD such as '03-31', got {_show(v)}")
    return s


def _origin(v: Any) -> str:
    s = _text(v)
    if not (s.isascii() and s.isprintable() and " " not in s):
        raise ValueError(f"expected an ASCII origin without spaces (e.g. 'sunshine.example/shiyi'), got {_show(s)}")
    return s


# --------------------------------------------------------------------------- YAML reading


class _Loader(yaml.SafeLoader):
    """SafeLoader that reports an impossible date (2025-02-30) as a marked error, not a ValueError."""

    def construct_yaml_timestamp(self, node):  # type: ignore[override]
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a valid date YYYY-MM-DD, got {node.value!r} (no such day)", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(yaml.CSafeLoader):  # libyaml: ~20x faster; same nodes, marks and constructors
        construct_yaml_timestamp = _Loader.construct_yaml_timestamp

    _FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _FastLoader.construct_yaml_timestamp)
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _Loader  # type: ignore[misc]


def _compose_and_construct(text: str, loader_class: type) -> tuple[Any, Any, list[tuple[str, int, int]]]:
    """The root node, the data, and the duplicate keys ``(key, line, first line)`` of the document."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None, []
        dups = _duplicate_keys(node)  # before construction, which flattens merge keys (<<) in place
        return node, loader.construct_document(node), dups
    finally:
        loader.dispose()


def _duplicate_keys(root: yaml.Node) -> list[tuple[str, int, int]]:
    """Keys given twice in one mapping (PyYAML would silently keep the last one)."""
    out = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    line = k.start_mark.line + 1
                    if k.value in first:
                        out.append((k.value, line, first[k.value]))
                    else:
                        first[k.value] = line
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    out.sort(key=lambda d: d[1])
    return out


def _decode(raw: bytes, rel: str, problems: list[Problem]) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(_encoding_problem(raw, exc, rel))
        return None
    return text[1:] if text.startswith("\ufeff") else text


def _encoding_problem(raw: bytes, exc: UnicodeDecodeError, rel: str) -> Problem:
    line = raw.count(b"\n", 0, exc.start) + 1
    bad = raw[exc.start : exc.start + 1].hex().upper()
    return Problem(
        rel,
        f"line {line}",
        "",
        f"expected UTF-8 text, got byte 0x{bad} at byte offset {exc.start} "
        "(save the file as UTF-8, e.g. Excel 'CSV UTF-8'; GBK is not accepted)",
    )


class _Yaml:
    """One parsed YAML file: its data and a map from entry paths to 1-based line numbers."""

    def __init__(self, rel: str, data: Any, lines: dict[tuple, int], problems: list[Problem]):
        self.rel = rel
        self.data = data
        self.lines = lines
        self.problems = problems
        self.reported: set[tuple[int, str, str]] = set()  # an aliased (&anchor / *alias) entry is reported once

    def root(self) -> "_Entry":
        return _Entry(self, (), self.data)


def _read_yaml(path: str, rel: str, problems: list[Problem]) -> _Yaml | None:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        problems.append(Problem(rel, "", "", f"cannot read the file: {exc.strerror or exc}"))
        return None
    text = _decode(raw, rel, problems)
    if text is None:
        return None
    try:
        try:
            node, data, dups = _compose_and_construct(text, _FastLoader)
        except (yaml.YAMLError, RecursionError):
            # Bad input: parse again with the pure-Python loader, whose messages do not depend on
            # whether PyYAML was built with libyaml.
            node, data, dups = _compose_and_construct(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problems.append(Problem(rel, where, "", f"invalid value: {what}"))
            return None
        if exc.context:
            what = f"{exc.context}: {what}"
        problems.append(Problem(rel, where, "", f"YAML syntax error: {what}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, "", "", f"YAML syntax error: {exc}"))
        return None
    except RecursionError:
        problems.append(Problem(rel, "", "", "YAML syntax error: expected a document, got nesting too deep"))
        return None
    if dups:
        for key, line, first in dups:
            problems.append(Problem(rel, f"line {line}", key, f"duplicate key {key!r} (first on line {first})"))
        return None
    lines: dict[tuple, int] = {}
    if node is not None:
        _map_lines(node, (), lines, set())
    return _Yaml(rel, data, lines, problems)


def _map_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int], seen: set[int]) -> None:
    """Record the line of every entry path; an alias is not walked twice (no billion laughs)."""
    stack = [(node, path)]
    while stack:
        n, p = stack.pop()
        lines.setdefault(p, n.start_mark.line + 1)
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in reversed(n.value):  # reversed: popped in document order, so an anchor
                key = k.value if isinstance(k, yaml.ScalarNode) else None  # is walked where it stands
                if key is not None:
                    stack.append((v, (*p, key)))
        elif isinstance(n, yaml.SequenceNode):
            for i in range(len(n.value) - 1, -1, -1):
                stack.append((n.value[i], (*p, i)))


_MISSING = object()
_BAD = object()  # a field with a reported problem


class _Entry:
    """A mapping (or list element) inside a YAML file, with its path for messages."""

    __slots__ = ("y", "path", "data")

    def __init__(self, y: _Yaml, path: tuple, data: Any):
        self.y = y
        self.path = path
        self.data = data

    # location -----------------------------------------------------------------------------
    def _path_str(self) -> str:
        out = ""
        for p in self.path:
            out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
        return out

    def line(self, key: Any = None) -> int | None:
        path = (*self.path, str(key)) if key is not None else self.path
        while True:
            ln = self.y.lines.get(path)
            if ln is not None or not path:
                return ln
            path = path[:-1]

    def loc(self, key: Any = None) -> str:
        ps = self._path_str()
        ln = self.line(key)
        if ps and ln:
            return f"{ps} (line {ln})"
        if ln:
            return f"line {ln}"
        return ps

    def error(self, key: str, message: str) -> None:
        self._add(Problem(self.y.rel, self.loc(key if key else None), key, message))

    def _add(self, p: Problem) -> None:
        mark = (id(self.data), p.field, p.message)
        if isinstance(self.data, (dict, list)):
            if mark in self.y.reported:
                return
            self.y.reported.add(mark)
        self.y.problems.append(p)

    # structure ------------------------------------------------------------------------------
    def mapping(self, required: Iterable[str], optional: Iterable[str] = ()) -> bool:
        """Check that this entry is a mapping with only known keys and all required keys."""
        required = tuple(required)
        allowed = (*required, *optional)
        if not isinstance(self.data, dict):
            self._add(
                Problem(self.y.rel, self.loc(), "", f"expected a mapping with {', '.join(required) or 'fields'}, got {_show(self.data)}")
            )
            return False
        for k in self.data:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                maybe = f"; did you mean {close[0]!r}?" if close else ""
                self.error(str(k), f"unknown field {str(k)!r} (expected one of {', '.join(allowed)}){maybe}")
        for k in required:
            if k not in self.data:
                self._add(Problem(self.y.rel, self.loc(), k, "required field is missing"))
        return True

    def get(self, key: str, conv: Callable[[Any], Any], default: Any = _MISSING) -> Any:
        """The converted value of *key*; _BAD after reporting a problem (or a missing required key)."""
        if not isinstance(self.data, dict) or key not in self.data:
            return _BAD if default is _MISSING else default
        try:
            return conv(self.data[key])
        except ValueError as exc:
            self.error(key, str(exc))
            return _BAD

    def children(self, key: str, *, nonempty: bool = True) -> list["_Entry"]:
        """The elements of a list field as entries (reports a non-list)."""
        if not isinstance(self.data, dict) or key not in self.data:
            return []
        v = self.data[key]
        if v is None and not nonempty:
            return []
        if not isinstance(v, list):
            self.error(key, f"expected a list, got {_show(v)}")
            return []
        if nonempty and not v:
            self.error(key, "expected a non-empty list, got an empty list")
        return [_Entry(self.y, (*self.path, key, i), x) for i, x in enumerate(v)]

    def child(self, key: str) -> "_Entry | None":
        if not isinstance(self.data, dict) or key not in self.data:
            return None
        return _Entry(self.y, (*self.path, key), self.data[key])


def _good(*values: Any) -> bool:
    return all(v is not _BAD for v in values)


# --------------------------------------------------------------------------- jurisdiction.yaml

_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "publish_within_workdays": _int_min(1),
    "entry_within_workdays": lambda v: None if v is None else _int(v, minimum=1),
    "max_checks_per_target_per_year": _int_min(1),
    "plan_deadline": _mmdd,
    "joint_share_target": parse_ratio,
    "credit_use_target": parse_ratio,
    "min_officers_per_group": _int_min(2),
}
_SITE = ("host", "organiser", "address", "phone", "icp", "police_record", "website_code")


def _load_jurisdiction(root: str, problems: list[Problem], where: dict) -> model.Jurisdiction | None:
    path = os.path.join(root, JURISDICTION_FILE)
    if not os.path.exists(path):
        problems.append(Problem(JURISDICTION_FILE, "", "", "required file is missing"))
        return None
    y = _read_yaml(path, JURISDICTION_FILE, problems)
    if y is None:
        return None
    e = y.root()
    if not e.mapping(("id", "name", "division_code", "origin", "office", "departments"), ("sample", "settings", "site")):
        return None
    jid = e.get("id", _slug)
    name = e.get("name", _text)
    division = e.get("division_code", _digits(6, 6, "a 行政区划代码"))
    origin = e.get("origin", _origin)
    office = e.get("office", _slug)
    sample = e.get("sample", _bool, False)

    settings = model.Settings()
    s = e.child("settings")
    if s is not None and s.data is not None:
        if s.mapping((), tuple(_SETTINGS)):
            values = {k: s.get(k, conv) for k, conv in _SETTINGS.items() if k in s.data}
            if _good(*values.values()):
                settings = model.Settings(**values)

    site = model.SiteInfo()
    st = e.child("site")
    if st is not None and st.data is not None:
        if st.mapping((), _SITE):
            values = {k: st.get(k, _opt_text) for k in _SITE if k in st.data}
            if _good(*values.values()):
                site = model.SiteInfo(**values)

    departments: list[model.Department] = []
    seen: dict[str, str] = {}
    for d in e.children("departments"):
        if not d.mapping(("id", "name", "short_name")):
            continue
        did, dname, short = d.get("id", _slug), d.get("name", _text), d.get("short_name", _text)
        if did is not _BAD:
            if did in seen:
                d.error("id", f"duplicate department id {did!r} (first at {seen[did]})")
                continue
            seen[did] = d.loc()
        if _good(did, dname, short):
            dep = model.Department(did, dname, short)
            where[id(dep)] = (JURISDICTION_FILE, d.loc())
            departments.append(dep)
    if not _good(jid, name, division, origin, office, sample):
        return None
    jur = model.Jurisdiction(
        id=jid,
        name=name,
        division_code=division,
        origin=origin,
        office=office,
        departments=tuple(departments),
        sample=sample,
        settings=settings,
        site=site,
    )
    where[id(jur)] = (JURISDICTION_FILE, e.loc("office"))
    return jur


# --------------------------------------------------------------------------- items.yaml

_ITEM_KEYS = ("id", "department", "name", "class", "subjects", "target_kinds", "content", "legal_basis", "methods")


def _load_items(root: str, problems: list[Problem], where: dict) -> model.ItemList | None:
    path = os.path.join(root, ITEMS_FILE)
    if not os.path.exists(path):
        problems.append(Problem(ITEMS_FILE, "", "", "required file is missing"))
        return None
    y = _read_yaml(path, ITEMS_FILE, problems)
    if y is None:
        return None
    e = y.root()
    if not e.mapping(("versions",)):
        return None
    versions: list[model.ItemListVersion] = []
    for ve in e.children("versions"):
        if not ve.mapping(("version", "published", "items"), ("note",)):
            continue
        num = ve.get("version", _int_min(1))
        published = ve.get("published", _date)
        note = ve.get("note", _opt_text, "")
        items: list[model.Item] = []
        seen: dict[str, str] = {}
        for ie in ve.children("items"):
            it = _item(ie)
            if it is None:
                continue
            if it.id in seen:
                ie.error("id", f"duplicate item id {it.id!r} in this version (first at {seen[it.id]})")
                continue
            seen[it.id] = ie.loc()
            where[id(it)] = (ITEMS_FILE, ie.loc())
            items.append(it)
        if _good(num, published, note):
            v = model.ItemListVersion(num, published, note, tuple(items))
            where[id(v)] = (ITEMS_FILE, ve.loc())
            versions.append(v)
    return model.ItemList(tuple(versions))


def _item(ie: _Entry) -> model.Item | None:
    if not ie.mapping(_ITEM_KEYS, ("ratio_cap", "frequency")):
        return None
    iid = ie.get("id", _item_id)
    dept = ie.get("department", _slug)
    name = ie.get("name", _text)
    cls = ie.get("class", _enum(ItemClass))
    subjects = ie.get("subjects", _list(_slug, nonempty=True))
    kinds = ie.get("target_kinds", _list(_enum(TargetKind), nonempty=True))
    content = ie.get("content", _text)
    basis = ie.get("legal_basis", _text)
    methods = ie.get("methods", _list(_enum(Method), nonempty=True))
    cap = ie.get("ratio_cap", lambda v: None if v is None else parse_ratio(v), None)
    freq = ie.get("frequency", _opt_text, "")
    if cls is ItemClass.FOCUS and cap not in (None, _BAD):
        ie.error("ratio_cap", f"expected no ratio_cap for a focus (重点) item (玉林 三(二)), got {_show(ie.data['ratio_cap'])}")
        cap = _BAD
    elif cls is ItemClass.GENERAL and cap is None:
        ie.error("ratio_cap", "expected a ratio_cap for a general (一般) item (玉林 三(二)), got none")
        cap = _BAD
    if not _good(iid, dept, name, cls, subjects, kinds, content, basis, methods, cap, freq):
        return None
    return model.Item(iid, dept, name, cls, subjects, kinds, content, basis, methods, cap, freq)


# --------------------------------------------------------------------------- plans/<year>.yaml

_TASK_KEYS = ("id", "name", "items", "lead", "strata", "notice", "draw_date", "start", "end")
_TASK_OPT = ("participants", "scope", "team", "description")


def _year_files(root: str, sub: str, ext: str, problems: list[Problem]) -> list[tuple[int, str, str]]:
    d = os.path.join(root, sub)
    if not os.path.isdir(d):
        return []
    out = []
    for name in sorted(os.listdir(d)):
        stem, dot, suffix = name.partition(".")
        if name.startswith(".") or os.path.isdir(os.path.join(d, name)):
            continue
        if not (dot and suffix == ext and len(stem) == 4 and stem.isascii() and stem.isdigit()):
            problems.append(
                Problem(f"{sub}/{name}", "", "", f"expected a file named {sub}/<year>.{ext} (e.g. 2025.{ext}), got {name!r}")
            )
            continue
        out.append((int(stem), os.path.join(d, name), f"{sub}/{name}"))
    return out


def _load_plans(root: str, problems: list[Problem], where: dict, cache: "DataCache | None" = None) -> tuple[model.Plan, ...]:
    plans = []
    for year, path, rel in _year_files(root, PLANS_DIR, "yaml", problems):
        plans += _through_cache(cache, root, rel, "plans",
                                lambda p, w, year=year, path=path, rel=rel: _plan_file(year, path, rel, p, w),
                                problems, where)
    return tuple(plans)


def _plan_file(year: int, path: str, rel: str, problems: list[Problem], where: dict) -> list[model.Plan]:
    y = _read_yaml(path, rel, problems)
    if y is None:
        return []
    plan = _plan(y.root(), year, where)
    return [] if plan is None else [plan]


def _plan(e: _Entry, file_year: int, where: dict) -> model.Plan | None:
    if not e.mapping(("year", "title", "versions")):
        return None
    year = e.get("year", _int_min(1))
    if year is not _BAD and year != file_year:
        e.error("year", f"expected {file_year} (the file name), got {year}")
        year = _BAD
    title = e.get("title", _text)
    versions = []
    for ve in e.children("versions"):
        if not ve.mapping(("version", "filed", "published", "tasks"), ("note",)):
            continue
        num = ve.get("version", _int_min(1))
        filed = ve.get("filed", _date)
        published = ve.get("published", _date)
        note = ve.get("note", _opt_text, "")
        tasks = []
        seen: dict[str, str] = {}
        for te in ve.children("tasks"):
            t = _task(te, file_year)
            if t is None:
                continue
            if t.id in seen:
                te.error("id", f"duplicate task id {t.id!r} in this version (first at {seen[t.id]})")
                continue
            seen[t.id] = te.loc()
            where[id(t)] = (e.y.rel, te.loc())
            tasks.append(t)
        if _good(num, filed, published, note):
            pv = model.PlanVersion(num, filed, published, note, tuple(tasks))
            where[id(pv)] = (e.y.rel, ve.loc())
            versions.append(pv)
    if not _good(year, title):
        return None
    plan = model.Plan(year, title, tuple(versions))
    where[id(plan)] = (e.y.rel, e.loc())
    return plan


def _task(te: _Entry, year: int) -> model.Task | None:
    if not te.mapping(_TASK_KEYS, _TASK_OPT):
        return None
    tid = te.get("id", _task_id)
    name = te.get("name", _text)
    items = te.get("items", _list(_item_id, nonempty=True))
    lead = te.get("lead", _slug)
    participants = te.get("participants", _list(_slug), ())
    notice = te.get("notice", _enum(NoticeMode))
    draw_date = te.get("draw_date", _date)
    start = te.get("start", _date)
    end = te.get("end", _date)
    description = te.get("description", _opt_text, "")

    scope: Any = model.Scope()
    se = te.child("scope")
    if se is not None and se.data is not None:
        scope = _BAD
        if se.mapping((), ("kinds", "divisions", "industries", "statuses")):
            kinds = se.get("kinds", _list(_enum(TargetKind)), ())
            divisions = se.get("divisions", _list(_digits(1, 6, "a 行政区划代码 prefix")), ())
            industries = se.get("industries", _list(_industry_prefix), ())
            statuses = se.get("statuses", _list(_enum(RegistrationStatus)), (RegistrationStatus.ACTIVE,))
            if _good(kinds, divisions, industries, statuses):
                scope = model.Scope(kinds, divisions, industries, statuses)

    team: Any = model.TeamRules()
    me = te.child("team")
    if me is not None and me.data is not None:
        team = _BAD
        if me.mapping((), ("min_officers", "per_department", "experts", "qualifications")):
            d = model.TeamRules()
            mo = me.get("min_officers", _int_min(2), d.min_officers)
            pd = me.get("per_department", _int_min(1), d.per_department)
            ex = me.get("experts", _int_min(0), d.experts)
            qu = me.get("qualifications", _list(_text), d.qualifications)
            if _good(mo, pd, ex, qu):
                team = model.TeamRules(mo, pd, ex, qu)

    strata = []
    seen: dict[str, str] = {}
    for sx in te.children("strata"):
        if not sx.mapping(("id", "label", "ratio"), ("credit_classes", "flags", "minimum")):
            continue
        sid = sx.get("id", _slug)
        label = sx.get("label", _text)
        ratio = sx.get("ratio", parse_ratio)
        ccs = sx.get("credit_classes", _list(_enum(CreditClass)), ())
        flags = sx.get("flags", _list(_enum(TargetFlag)), ())
        minimum = sx.get("minimum", _int_min(0), 0)
        if sid is not _BAD:
            if sid in seen:
                sx.error("id", f"duplicate stratum id {sid!r} (first at {seen[sid]})")
                sid = _BAD
            else:
                seen[sid] = sx.loc()
        if _good(sid, label, ratio, ccs, flags, minimum):
            strata.append(model.Stratum(sid, label, ratio, ccs, flags, minimum))
        else:
            strata.append(_BAD)
    if not _good(tid, name, items, lead, participants, notice, draw_date, start, end, description, scope, team, *strata):
        return None
    return model.Task(
        id=tid,
        year=year,
        name=name,
        items=items,
        lead=lead,
        participants=participants,
        scope=scope,
        strata=tuple(strata),
        notice=notice,
        team=team,
        draw_date=draw_date,
        start=start,
        end=end,
        description=description,
    )


# --------------------------------------------------------------------------- calendar-overrides.yaml


def load_calendar_overrides(path: str, rel: str, problems: list[Problem]) -> Overrides | None:
    """Parse ``calendar-overrides.yaml``; problems are appended, None when it is unusable."""
    y = _read_yaml(path, rel, problems)
    if y is None:
        return None
    e = y.root()
    if not e.mapping(("years",), ("holidays", "workdays")):
        return None
    years = e.get("years", _list(_int_min(1), nonempty=True))
    holidays = e.get("holidays", _list(_date), ())
    workdays = e.get("workdays", _list(_date), ())
    if not _good(years, holidays, workdays):
        return None
    ok = True
    for key, days, weekend in (("holidays", holidays, False), ("workdays", workdays, True)):
        for i, d in enumerate(days):
            if d.year not in years:
                e.error(key, f"element [{i}]: expected a day in the years {', '.join(map(str, years))}, got {d}")
                ok = False
            elif (d.weekday() >= 5) != weekend:
                want = "a weekend day (调休 make-up workday)" if weekend else "a weekday (holidays on weekends are days off anyway)"
                e.error(key, f"element [{i}]: expected {want}, got {d} ({d.strftime('%A')})")
                ok = False
    return Overrides(frozenset(years), frozenset(holidays), frozenset(workdays)) if ok else None


# --------------------------------------------------------------------------- CSV reading


class _Table:
    """A CSV file being read: header check, physical line numbers, problems."""

    def __init__(self, rel: str, problems: list[Problem]):
        self.rel = rel
        self.problems = problems

    def error(self, line: int, field: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.rel, f"line {line}", field, message, severity))


class _CsvRows:
    """A CSV file read as rows: ``open()`` checks the header, iteration yields ``(row, line)``.

    ``line`` is the 1-based physical line where the row starts (the header is line 1). Rows with a
    field count different from the header's, malformed quoting and empty lines are reported or
    skipped here; a file that is not UTF-8 stops the iteration with one problem naming the byte
    offset, and sets ``failed``.
    """

    def __init__(self, path: str, rel: str, required: tuple[str, ...], optional: tuple[str, ...], problems: list[Problem]):
        self.path, self.rel, self.required, self.optional = path, rel, required, optional
        self.problems = problems
        self.table = _Table(rel, problems)
        self.failed = False
        self.clean = False  # the last row ended the file: no csv error pending at the end
        self.end_line = 0  # physical lines read when the iteration ended
        self._file: Any = None
        self._reader: Any = None
        self._width = 0
        self._offset = 0

    @property
    def width(self) -> int:
        return self._width

    def resume(self, text: str, width: int, lines_before: int) -> None:
        """Read *text*, the rest of a file after *lines_before* physical lines whose header had
        *width* columns, as iteration would read it after those lines (``open()`` is not called)."""
        self._file = io.StringIO(text, newline="")
        self._reader = csv.reader(self._file, strict=True)
        self._width = width
        self._offset = lines_before

    def open(self) -> dict[str, int] | None:
        """Read and check the header: the column map (first occurrence of each name), or None."""
        table = self.table
        try:
            self._file = open(self.path, "r", encoding="utf-8-sig", newline="")
        except OSError as exc:
            self.problems.append(Problem(self.rel, "", "", f"cannot read the file: {exc.strerror or exc}"))
            return None
        self._reader = csv.reader(self._file, strict=True)
        try:
            header = next(self._reader)
        except StopIteration:
            table.error(1, "", f"expected a header line with the columns {', '.join(self.required)}, got an empty file")
            return self._close()
        except csv.Error as exc:
            table.error(1, "", f"malformed CSV header: {exc}")
            return self._close()
        except UnicodeDecodeError:
            self._encoding_error()
            return self._close()
        cols: dict[str, int] = {}
        allowed = (*self.required, *self.optional)
        for i, name in enumerate(header):
            if name in cols:
                table.error(1, name, f"duplicate column {name!r} (columns {cols[name] + 1} and {i + 1})")
            elif name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                maybe = f"; did you mean {close[0]!r}?" if close else ""
                table.error(1, name, f"unknown column {name!r} (expected one of {', '.join(allowed)}){maybe}")
            cols.setdefault(name, i)
        missing = [c for c in self.required if c not in cols]
        for c in missing:
            table.error(1, c, f"required column is missing (header has {', '.join(header) or 'nothing'})")
        if missing:
            return self._close()
        self._width = len(header)
        return cols

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        return None

    def _encoding_error(self) -> None:
        self.failed = True
        with open(self.path, "rb") as fb:
            raw = fb.read()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(_encoding_problem(raw, exc, self.rel))

    def __iter__(self) -> Iterator[tuple[list[str], int]]:
        if self._file is None:
            return
        reader, table, width, offset = self._reader, self.table, self._width, self._offset
        prev_end = reader.line_num + offset
        error_last = False
        try:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    self.clean = not error_last
                    self.end_line = prev_end
                    break
                except csv.Error as exc:
                    table.error(prev_end + 1, "", f"malformed CSV: {exc}")
                    prev_end = reader.line_num + offset
                    error_last = True
                    continue
                line = prev_end + 1
                prev_end = reader.line_num + offset
                error_last = False
                if len(row) != width:
                    if not row:  # an empty line
                        continue
                    table.error(line, "", f"expected {width} fields as in the header, got {len(row)}")
                    continue
                yield row, line
        except UnicodeDecodeError:
            self._encoding_error()
        finally:
            self._close()


def _read_csv(
    path: str,
    rel: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    problems: list[Problem],
    make_handler: Callable[[dict[str, int]], Callable[[list[str], int], None]],
) -> dict[str, int] | None:
    """Check the header of a CSV file, then stream its rows to ``make_handler(columns)(row, line)``.

    Returns the column map, or None when the file could not be read (the reason is in *problems*).
    """
    rows = _CsvRows(path, rel, required, optional, problems)
    cols = rows.open()
    if cols is None:
        return None
    handle = make_handler(cols)
    for row, line in rows:
        handle(row, line)
    return None if rows.failed else cols


def _bind(cols: dict[str, int], handle: Callable[[list[str], int], None]):
    """A make_handler that fills *cols* with the header's column map and returns *handle*."""

    def make(pos: dict[str, int]) -> Callable[[list[str], int], None]:
        cols.update(pos)
        return handle

    return make


# Cached cell parsers: a cell value seen once is never parsed again (most cells repeat).


class _CellCache:
    """Parse a cell through *conv* once per distinct value; remember failures as messages."""

    __slots__ = ("conv", "ok", "bad")

    def __init__(self, conv: Callable[[str], Any]):
        self.conv = conv
        self.ok: dict[str, Any] = {}
        self.bad: dict[str, str] = {}

    def __call__(self, cell: str) -> Any:
        """Return the parsed value, or raise ValueError with the message."""
        try:
            return self.ok[cell]
        except KeyError:
            pass
        msg = self.bad.get(cell)
        if msg is not None:
            raise ValueError(msg)
        try:
            v = self.conv(cell)
        except ValueError as exc:
            if len(self.bad) < 10000:
                self.bad[cell] = str(exc)
            raise
        if len(self.ok) < 100000:
            self.ok[cell] = v
        return v


def _split(cell: str) -> list[str]:
    return [p for p in cell.split(";")] if cell else []


def _cell_list(conv: Callable[[str], Any], kind: type = tuple) -> Callable[[str], Any]:
    def parse(cell: str) -> Any:
        out = []
        for part in _split(cell):
            if not part:
                raise ValueError(f"expected ';'-separated values without empty parts, got {_show(cell)}")
            out.append(conv(part))
        if len(set(out)) != len(out):
            raise ValueError(f"expected each value once, got {_show(cell)}")
        return kind(out)

    return parse



def _cell_tag(s: str) -> str:
    if not s.strip() or s != s.strip():
        raise ValueError(f"expected a tag without surrounding spaces, got {_show(s)}")
    return s


def _cell_industry(s: str) -> str:
    if not _industry_ok(s):
        raise ValueError(f"expected GB/T 4754 codes such as 'F5211', got {_show(s)}")
    return s


def _cell_division(s: str) -> str:
    if not (len(s) == 6 and s.isascii() and s.isdigit()):
        raise ValueError(f"expected a 6-digit 行政区划代码, got {_show(s)}")
    return s


def _cell_opt_date(s: str) -> date | None:
    return None if s == "" else _date_str(s)


def _cell_int(minimum: int, default: int | None = None) -> Callable[[str], int]:
    def conv(s: str) -> int:
        if s == "" and default is not None:
            return default
        if not (s.isascii() and s.isdigit()) or (len(s) > 1 and s[0] == "0"):
            raise ValueError(f"expected an integer >= {minimum}, got {_show(s)}")
        n = int(s)
        if n < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {n}")
        return n

    return conv


# A USCC's weighted sum Σ value(c_i)·3^(i-1) mod 31 equals the base-34 number whose digits are the
# values, least significant first, taken mod 31 (34 ≡ 3 mod 31). ``int(…, 34)`` computes it in C.
_B34 = b"0123456789abcdefghijklmnopqrstuvwx"
# bytes.translate table: a USCC character -> the base-34 digit of its value; anything else -> b"!"
# (which makes int() fail). Non-ASCII codes never get here (encode("ascii") fails first).
_USCC_TO_B34 = bytes(
    _B34[uscc.ALPHABET.index(chr(i))] if chr(i) in uscc.ALPHABET else ord("!") for i in range(256)
)


def _uscc_fast_ok(code: str) -> bool:
    """A well-formed USCC with the right check character (fast path; uscc.describe_problem explains).

    Σ value(c_i)·3^(i-1) mod 31 equals the base-34 number whose digits are the values, least
    significant first, taken mod 31 (34 ≡ 3 mod 31): ``int(…, 34)`` computes it in C.
    """
    if len(code) != 18 or not code[2:8].isdigit():
        return False
    try:
        t = code.encode("ascii").translate(_USCC_TO_B34)
        return (31 - int(t[16::-1], 34) % 31) % 31 == int(t[17:], 34)
    except (UnicodeEncodeError, ValueError):
        return False


def _fast_constructor(cls: type) -> Callable[..., Any]:
    """Build instances of a frozen slots dataclass through its slot descriptors.

    Equivalent to ``cls(*fields)`` (all fields positional, no ``__post_init__``), about four times
    faster, which matters for a million targets. Falls back to the class when that does not hold.
    """
    import dataclasses

    names = [f.name for f in dataclasses.fields(cls)]
    if hasattr(cls, "__post_init__") or any(not isinstance(cls.__dict__.get(n), type(cls.__dict__[names[0]])) for n in names):
        return cls
    setters = [cls.__dict__[n].__set__ for n in names]
    new = object.__new__
    if len(names) == 9:  # unrolled for model.Target
        s0, s1, s2, s3, s4, s5, s6, s7, s8 = setters

        def make9(a, b, c, d, e, f, g, h, i):
            obj = new(cls)
            s0(obj, a); s1(obj, b); s2(obj, c); s3(obj, d); s4(obj, e)  # noqa: E702
            s5(obj, f); s6(obj, g); s7(obj, h); s8(obj, i)  # noqa: E702
            return obj

        return make9

    def make(*values: Any) -> Any:
        obj = new(cls)
        for setter, v in zip(setters, values):
            setter(obj, v)
        return obj

    return make


# --------------------------------------------------------------------------- targets.csv

_TARGET_REQUIRED = ("code", "name", "kind", "division", "status")
_TARGET_OPTIONAL = ("industries", "flags", "credit_class", "established")
_MISS = object()


def _load_targets(root: str, problems: list[Problem], where: dict) -> tuple[model.Target, ...] | None:
    """targets.csv, the big one: one tight loop, dictionary lookups, caches for repeated cells."""
    path = os.path.join(root, TARGETS_FILE)
    rel = TARGETS_FILE
    if not os.path.exists(path):
        problems.append(Problem(rel, "", "", "required file is missing"))
        return None
    rows = _CsvRows(path, rel, _TARGET_REQUIRED, _TARGET_OPTIONAL, problems)
    pos = rows.open()
    if pos is None:
        return None
    table = rows.table
    err = table.error
    i_code, i_name, i_kind = pos["code"], pos["name"], pos["kind"]
    i_division, i_status = pos["division"], pos["status"]
    i_ind, i_flags = pos.get("industries"), pos.get("flags")
    i_credit, i_est = pos.get("credit_class"), pos.get("established")

    kinds = {m.value: m for m in TargetKind}
    statuses = {m.value: m for m in RegistrationStatus}
    credit: dict[str, CreditClass | None] = {m.value: m for m in CreditClass}
    credit[""] = None
    kinds_msg = f"expected one of {', '.join(kinds)}, got "
    status_msg = f"expected one of {', '.join(statuses)}, got "
    credit_msg = f"expected one of {', '.join(m.value for m in CreditClass)} or empty, got "
    # caches: cell text -> parsed value (the parse also interns: equal cells share one object)
    division = _CellCache(_cell_division)
    industries = _CellCache(_cell_list(_cell_industry))
    flags = _CellCache(_cell_list(_enum(TargetFlag), frozenset))
    established = _CellCache(_cell_opt_date)
    div_get, ind_get, flag_get, est_get = division.ok.get, industries.ok.get, flags.ok.get, established.ok.get
    kind_get, status_get = kinds.get, statuses.get
    fast_ok = _uscc_fast_ok
    make = _fast_constructor(model.Target)
    empty_flags: frozenset = frozenset()
    first_line: dict[str, int] = {}
    out: list[model.Target] = []
    append = out.append
    MISS = _MISS

    for row, line in rows:
        ok = True
        code = row[i_code]
        if not fast_ok(code):
            found = uscc.describe_problem(code)
            if found is not None:
                err(line, "code", found[1], found[0])
                ok = found[0] != "error"
        if ok:
            first = first_line.setdefault(code, line)
            if first != line:
                err(line, "code", f"duplicate code {code!r} (first on line {first})")
                ok = False
        name = row[i_name]
        if not name or name.isspace():
            err(line, "name", f"expected a non-empty name, got {_show(name)}")
            ok = False
        kind = kind_get(row[i_kind])
        if kind is None:
            err(line, "kind", kinds_msg + _show(row[i_kind]))
            ok = False
        status = status_get(row[i_status])
        if status is None:
            err(line, "status", status_msg + _show(row[i_status]))
            ok = False
        cell = row[i_division]
        div = div_get(cell, MISS)
        if div is MISS:
            try:
                div = division(cell)
            except ValueError as exc:
                err(line, "division", str(exc))
                ok = False
        ind: Any = ()
        if i_ind is not None:
            cell = row[i_ind]
            ind = ind_get(cell, MISS)
            if ind is MISS:
                try:
                    ind = industries(cell)
                except ValueError as exc:
                    err(line, "industries", str(exc))
                    ok = False
        fl: Any = empty_flags
        if i_flags is not None:
            cell = row[i_flags]
            fl = flag_get(cell, MISS)
            if fl is MISS:
                try:
                    fl = flags(cell)
                except ValueError as exc:
                    err(line, "flags", str(exc))
                    ok = False
        cc = None
        if i_credit is not None:
            cell = row[i_credit]
            cc = credit.get(cell, MISS)
            if cc is MISS:
                err(line, "credit_class", credit_msg + _show(cell))
                ok = False
        est = None
        if i_est is not None:
            cell = row[i_est]
            est = est_get(cell, MISS)
            if est is MISS:
                try:
                    est = established(cell)
                except ValueError as exc:
                    err(line, "established", str(exc))
                    ok = False
        if ok:
            append(make(code, name, kind, div, ind, status, fl, cc, est))
    if rows.failed:
        return None
    return tuple(out)


# --------------------------------------------------------------------------- inspectors.csv

_INSPECTOR_REQUIRED = ("id", "department", "name", "person_type", "status")
_INSPECTOR_OPTIONAL = (
    "certificate_no",
    "certificate_valid_until",
    "qualifications",
    "expertise",
    "conflicts",
    "capacity",
)


def _cell_conflict(s: str) -> str:
    if not s or s != s.strip():
        raise ValueError(f"expected target codes separated by ';', got {_show(s)}")
    return s


def _cell_inspector_id(s: str) -> str:
    if not _ITEM_ID.fullmatch(s):
        raise ValueError(f"expected an id of ASCII letters, digits and '-' (e.g. 'AMR-007'), got {_show(s)}")
    return s


def _cell_slug(s: str) -> str:
    if not _SLUG.fullmatch(s):
        raise ValueError(f"expected a department id (lowercase ASCII), got {_show(s)}")
    return s


def _convert_row(row: list[str], line: int, cols: dict[str, int], parsers: dict, defaults: dict, table) -> dict | None:
    """The row's cells through their column's converter, over ``defaults``; ``None`` after reporting
    every cell that does not convert (each as its own problem, naming line and column)."""
    vals = dict(defaults)
    ok = True
    for name, idx in cols.items():
        conv = parsers.get(name)
        if conv is None:
            continue
        try:
            vals[name] = conv(row[idx])
        except ValueError as exc:
            table.error(line, name, str(exc))
            ok = False
    return vals if ok else None


def _load_inspectors(root: str, problems: list[Problem], where: dict) -> tuple[model.Inspector, ...] | None:
    path = os.path.join(root, INSPECTORS_FILE)
    rel = INSPECTORS_FILE
    if not os.path.exists(path):
        problems.append(Problem(rel, "", "", "required file is missing"))
        return None
    table = _Table(rel, problems)
    out: list[model.Inspector] = []
    first_line: dict[str, int] = {}
    parsers: dict[str, Callable[[str], Any]] = {
        "id": _cell_inspector_id,
        "department": _CellCache(_cell_slug),
        "name": lambda s: _text(s),
        "person_type": _CellCache(_enum(PersonType)),
        "status": _CellCache(_enum(InspectorStatus)),
        "certificate_no": lambda s: s,
        "certificate_valid_until": _CellCache(_cell_opt_date),
        "qualifications": _CellCache(_cell_list(_cell_tag, frozenset)),
        "expertise": _CellCache(_cell_list(_cell_tag, frozenset)),
        "conflicts": _cell_list(_cell_conflict, frozenset),
        "capacity": _cell_int(1, default=10),
    }
    defaults: dict[str, Any] = {
        "certificate_no": "",
        "certificate_valid_until": None,
        "qualifications": frozenset(),
        "expertise": frozenset(),
        "conflicts": frozenset(),
        "capacity": 10,
    }
    cols: dict[str, int] = {}

    def handle(row: list[str], line: int) -> None:
        vals = _convert_row(row, line, cols, parsers, defaults, table)
        if vals is None:
            return
        if vals["id"] in first_line:
            table.error(line, "id", f"duplicate inspector id {vals['id']!r} (first on line {first_line[vals['id']]})")
            return
        first_line[vals["id"]] = line
        if vals["person_type"] is PersonType.OFFICER and not vals["certificate_no"].strip():
            table.error(line, "certificate_no", "expected a 执法证号 for an officer (person_type officer), got nothing")
            return
        ins = model.Inspector(
            id=vals["id"],
            department=vals["department"],
            name=vals["name"],
            person_type=vals["person_type"],
            certificate_no=vals["certificate_no"],
            certificate_valid_until=vals["certificate_valid_until"],
            qualifications=vals["qualifications"],
            expertise=vals["expertise"],
            status=vals["status"],
            conflicts=vals["conflicts"],
            capacity=vals["capacity"],
        )
        where[id(ins)] = (rel, f"line {line}")
        out.append(ins)

    if _read_csv(path, rel, _INSPECTOR_REQUIRED, _INSPECTOR_OPTIONAL, problems, _bind(cols, handle)) is None:
        return None
    return tuple(out)


# --------------------------------------------------------------------------- results/<year>.csv

_RESULT_REQUIRED = (
    "task",
    "target",
    "department",
    "item",
    "codes",
    "inspection_end",
    "entered",
    "published",
    "approver_role",
    "version",
)
_RESULT_OPTIONAL = ("sub_codes", "note", "correction_reason")
_RESULT_SHARED = ("inspection_end", "entered", "published", "approver_role", "correction_reason")


def _load_results(root: str, problems: list[Problem], where: dict, cache: "DataCache | None" = None) -> tuple[model.Result, ...]:
    results: list[model.Result] = []
    for _year, path, rel in _year_files(root, RESULTS_DIR, "csv", problems):
        results.extend(_through_cache(cache, root, rel, "results", _ResultsFile(path, rel), problems, where))
    return tuple(results)


def _results_file(path: str, rel: str, problems: list[Problem], where: dict) -> list[model.Result]:
    return _ResultsFile(path, rel)(problems, where)


_RESULT_KEY = attrgetter("task", "target", "department", "version")


class _ResultsFile:
    """One ``results/<year>.csv``: ``parser(problems, where)`` parses it all; ``parser.resume(…)``
    parses only rows appended after a prefix whose records a data cache kept, continuing that parse.

    Rows are grouped by (task, target, department, version) into results, in order of first
    appearance; a group's later rows must repeat its shared cells and add new items. The state a
    resumed parse needs is the header's column map and width, the physical line count (kept in the
    cache's ``state``) and the groups, which the cached results and their lines give back.

    After a parse, ``locations`` is ``("lines", result lines, item lines)`` and ``state`` what a
    later ``resume`` needs (None when the file did not end cleanly between rows).
    """

    def __init__(self, path: str, rel: str) -> None:
        self.path, self.rel = path, rel
        self.locations: tuple | None = None
        self.state: dict | None = None

    def _start(self, problems: list[Problem], where: dict) -> None:
        self.table = _Table(self.rel, problems)
        self.where = where
        self.parsers: dict[str, Callable[[str], Any]] = {
            "task": _CellCache(_cell_task_id),
            "target": _cell_target_code,
            "department": _CellCache(_cell_slug),
            "item": _CellCache(_cell_item_id),
            "codes": _CellCache(_cell_list(_enum(ResultCode))),
            "sub_codes": _CellCache(_cell_list(_enum(PendingSubCode))),
            "note": lambda s: s,
            "inspection_end": _CellCache(_date_str),
            "entered": _CellCache(_date_str),
            "published": _CellCache(_date_str),
            "approver_role": _CellCache(_enum(ApproverRole)),
            "version": _cell_int(1),
            "correction_reason": lambda s: s,
        }
        self.defaults: dict[str, Any] = {"sub_codes": (), "note": "", "correction_reason": ""}
        self.cols: dict[str, int] = {}
        # key -> [shared values, first line, {item: ItemResult}, {item: line}, index in old or -1, old item count]
        self.groups: dict[tuple, list] = {}
        self.old: list[model.Result] = []
        self.old_keys: dict[tuple, int] | None = None

    def __call__(self, problems: list[Problem], where: dict) -> list[model.Result]:
        self._start(problems, where)
        self.locations = ("lines", [], [])
        self.state = None
        rows = _CsvRows(self.path, self.rel, _RESULT_REQUIRED, _RESULT_OPTIONAL, problems)
        cols = rows.open()
        if cols is None:
            return []
        self.cols.update(cols)
        for row, line in rows:
            self.handle(row, line)
        if rows.failed:
            return []
        out, rlines, ilines = [], [], []
        rel = self.rel
        for (task, target, dept, version), (shared, line, items, lines, _i, _n) in self.groups.items():
            r = self._result(task, target, dept, version, shared, items)
            where[id(r)] = (rel, f"line {line}")
            out.append(r)
            rlines.append(line)
            ilines.extend(lines.values())
        self.locations = ("lines", rlines, ilines)
        self.state = self._state(rows)
        return out

    def _state(self, rows: _CsvRows) -> dict | None:
        return {"cols": dict(self.cols), "width": rows.width, "lines": rows.end_line} if rows.clean else None

    @staticmethod
    def _result(task: str, target: str, dept: str, version: int, shared: tuple, items: dict) -> model.Result:
        ie, entered, published, role, reason = shared
        return model.Result(
            task=task,
            target=target,
            department=dept,
            items=tuple(items.values()),
            inspection_end=ie,
            entered=entered,
            published=published,
            approver_role=role,
            version=version,
            correction_reason=reason,
        )

    def resume(self, start: int, state: dict, old: list[model.Result], locations: tuple,
               problems: list[Problem]) -> tuple | None:
        """Parse the bytes from *start* on, after a prefix that parsed into *old* (with *locations*)
        and ended cleanly in *state*: ``(results, locations, locations of the new results, state,
        only new results)`` exactly as a full parse gives them; None when the new bytes are not
        UTF-8 text on their own (a full parse reports that)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(start)
                raw = f.read()
            text = raw.decode("utf-8")  # not utf-8-sig: a BOM here is not at the start of the file
        except (OSError, UnicodeDecodeError):
            return None
        _, old_rlines, old_ilines = locations
        if old_ilines is None or set(state) != {"cols", "width", "lines"}:
            return None
        self._start(problems, {})  # the caller locates every result from the line columns
        self.cols.update(state["cols"])
        self.old = old
        self.old_rlines, self.old_ilines = old_rlines, old_ilines
        rows = _CsvRows(self.path, self.rel, (), (), problems)
        rows.resume(text, state["width"], state["lines"])
        for row, line in rows:
            self.handle(row, line)
        records = list(old)
        replaced: dict[int, list] = {}
        new_rlines: list[int] = []
        new_ilines: list[int] = []
        for (task, target, dept, version), g in self.groups.items():
            shared, line, items, lines, index, count = g
            if index < 0:
                records.append(self._result(task, target, dept, version, shared, items))
                new_rlines.append(line)
                new_ilines.extend(lines.values())
            elif len(items) != count:  # rows added items to a result of the prefix
                records[index] = self._result(task, target, dept, version, shared, items)
                replaced[index] = list(lines.values())
        rlines = list(old_rlines) + new_rlines
        if not replaced:
            ilines = list(old_ilines) + new_ilines
        else:
            ilines = []
            pos = 0
            for i in sorted(replaced):
                ilines.extend(old_ilines[pos : self.offsets[i]])
                ilines.extend(replaced[i])
                pos = self.offsets[i + 1]
            ilines.extend(old_ilines[pos:])
            ilines.extend(new_ilines)
        self.locations = ("lines", rlines, ilines)
        self.state = self._state(rows)
        return records, self.locations, ("lines", new_rlines, new_ilines), self.state, not replaced

    def _old_group(self, key: tuple) -> list | None:
        """The group of a result of the cached prefix, as the full parse had it after the prefix."""
        if self.old_keys is None:
            self.old_keys = dict(zip(map(_RESULT_KEY, self.old), itertools.count()))
            self.offsets = [0, *itertools.accumulate(map(len, map(attrgetter("items"), self.old)))]
        i = self.old_keys.get(key)
        if i is None:
            return None
        r = self.old[i]
        items = {ir.item: ir for ir in r.items}
        lines = dict(zip(items, self.old_ilines[self.offsets[i] : self.offsets[i + 1]]))
        shared = (r.inspection_end, r.entered, r.published, r.approver_role, r.correction_reason)
        return [shared, self.old_rlines[i], items, lines, i, len(items)]

    def handle(self, row: list[str], line: int) -> None:
        table = self.table
        vals = _convert_row(row, line, self.cols, self.parsers, self.defaults, table)
        if vals is None:
            return
        ok = True
        key = (vals["task"], vals["target"], vals["department"], vals["version"])
        groups = self.groups
        g = groups.get(key)
        shared = tuple(vals[k] for k in _RESULT_SHARED)
        if g is None and self.old:
            g = self._old_group(key)
            if g is not None:
                groups[key] = g
        if g is None:
            g = groups[key] = [shared, line, {}, {}, -1, 0]
        else:
            for k, a, b in zip(_RESULT_SHARED, g[0], shared):
                if a != b:
                    table.error(
                        line,
                        k,
                        f"expected {_show(str(a))} as on line {g[1]} (same task, target, department and version), "
                        f"got {_show(str(b))}",
                    )
                    ok = False
        item = vals["item"]
        if item in g[2]:
            table.error(line, "item", f"duplicate item {item!r} in the same result (first on line {g[3][item]})")
            return
        if not ok:
            return
        ir = model.ItemResult(item, vals["codes"], vals["sub_codes"], vals["note"])
        self.where[id(ir)] = (self.rel, f"line {line}")
        g[2][item] = ir
        g[3][item] = line


def _cell_target_code(s: str) -> str:
    if not s or s != s.strip() or ";" in s:
        raise ValueError(f"expected one target code (USCC, 15-digit number or 'P-…'), got {_show(s)}")
    return s


def _cell_task_id(s: str) -> str:
    return _task_id(s)


def _cell_item_id(s: str) -> str:
    return _item_id(s)
