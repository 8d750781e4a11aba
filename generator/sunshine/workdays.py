"""Working days (工作日) with make-up workdays (调休), for legal deadlines.

A deadline of *N* working days after a trigger day (e.g. the end of an inspection) is the *N*-th
working day strictly after it: the trigger day itself is never counted (淄博 第十七条(四)). Example:
an inspection ending on Friday 2025-09-26 must be published by 2025-10-30, because 2025-09-28 (Sunday)
and 2025-10-11 (Saturday) are make-up workdays and 2025-10-01…08 are holidays.

The calendar is the official one of the State Council as shipped by ``chinese-calendar`` (2004–2026 in
version 1.11), optionally completed by a local ``calendar-overrides.yaml`` in the data directory
(format: ``docs/data-format.md``) for a newly announced year. A year covered by the override file is
taken from the file alone. A day in a year neither knows raises :class:`~sunshine.errors.CalendarError`
(fail closed: a legal deadline is never guessed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta

from .errors import CalendarError, DataError, Problem

OVERRIDES_FILE = "calendar-overrides.yaml"
_HINT = (
    f"add the year to {OVERRIDES_FILE} in the data directory (years, holidays, workdays: "
    "see docs/data-format.md) once the State Council has announced its holidays"
)


@dataclass(frozen=True, slots=True)
class Overrides:
    """A local calendar for whole years: ``holidays`` are weekdays off, ``workdays`` weekend days worked."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def _official_is_workday(day: date) -> bool | None:
    """chinese-calendar's answer, or None when it does not know the year."""
    import chinese_calendar  # imported lazily: only the data side needs it

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(slots=True)
class Calendar:
    """The working-day calendar: official data plus optional overrides (the override years win)."""

    overrides: Overrides = field(default_factory=Overrides)
    _cache: dict[date, bool] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dir(cls, data_dir: str | os.PathLike[str]) -> "Calendar":
        """The calendar of a data directory (``calendar-overrides.yaml`` is optional).

        Raises :class:`~sunshine.errors.DataError` when the override file is invalid.
        """
        path = os.path.join(os.fspath(data_dir), OVERRIDES_FILE)
        if not os.path.exists(path):
            return cls()
        from . import loading  # the YAML reader lives on the I/O side

        problems: list[Problem] = []
        overrides = loading.load_calendar_overrides(path, OVERRIDES_FILE, problems)
        if any(p.severity == "error" for p in problems) or overrides is None:
            raise DataError(problems, hint="fix calendar-overrides.yaml (format: docs/data-format.md)")
        return cls(overrides)

    def knows(self, year: int) -> bool:
        if year in self.overrides.years:
            return True
        return _official_is_workday(date(year, 1, 1)) is not None

    def is_workday(self, day: date) -> bool:
        """True on a working day; raises CalendarError for a year no source knows."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day.year in self.overrides.years:
            result = self.overrides.is_workday(day)
        else:
            official = _official_is_workday(day)
            if official is None:
                raise CalendarError(
                    f"no working-day calendar for the year {day.year}: expected a year covered by "
                    f"chinese-calendar or by {OVERRIDES_FILE}, got {day.isoformat()}",
                    hint=_HINT,
                )
            result = official
        self._cache[day] = result
        return result

    def add_workdays(self, day: date, n: int) -> date:
        """The *n*-th working day strictly after *day* (*n* ≥ 1; *n* = 0 returns *day*)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"expected a number of working days >= 0, got {n!r}")
        current = day
        left = n
        while left:
            current += timedelta(days=1)
            if self.is_workday(current):
                left -= 1
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]`` (0 when *end* ≤ *start*): ``add_workdays(start, k) <= end``."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def deadline(self, trigger: date, n: int) -> date:
        """Alias of :meth:`add_workdays`, reads better at call sites (``deadline(end, 20)``)."""
        return self.add_workdays(trigger, n)


_DEFAULT = Calendar()


def add_workdays(day: date, n: int, *, overrides: Overrides | Calendar | None = None) -> date:
    """The *n*-th working day strictly after *day* (the trigger day is not counted)."""
    return _calendar(overrides).add_workdays(day, n)


def workdays_between(start: date, end: date, *, overrides: Overrides | Calendar | None = None) -> int:
    """The number of working days in ``(start, end]``."""
    return _calendar(overrides).workdays_between(start, end)


def is_workday(day: date, *, overrides: Overrides | Calendar | None = None) -> bool:
    return _calendar(overrides).is_workday(day)


def _calendar(overrides: Overrides | Calendar | None) -> Calendar:
    if overrides is None:
        return _DEFAULT
    if isinstance(overrides, Calendar):
        return overrides
    return Calendar(overrides)
