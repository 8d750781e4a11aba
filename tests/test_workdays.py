"""Working-day deadlines with 调休 make-up days (sunshine.workdays).

The expected dates below were counted by hand on the State Council's published holiday schedules
(国务院办公厅关于2025年部分节假日安排的通知, 国办发明电〔2024〕12号; the 2024 notice 国办发明电〔2023〕7号):
2025 Spring Festival: 01-28…02-04 off, Sunday 01-26 and Saturday 02-08 worked; 2025 National Day and
Mid-Autumn: 10-01…10-08 off, Sunday 09-28 and Saturday 10-11 worked; 2024 Labour Day: 05-01…05-05 off,
Sunday 04-28 and Saturday 05-11 worked. The year 2027 cases use a local override file (made-up days).
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from sunshine import workdays
from sunshine.errors import CalendarError, DataError
from sunshine.workdays import Calendar, Overrides, add_workdays, workdays_between

D = date.fromisoformat


def test_design_notes_example_national_day_2025():
    # design-notes §2: an inspection ending 2025-09-26 must be published by 2025-10-30, not 10-24.
    assert add_workdays(D("2025-09-26"), 20) == D("2025-10-30")
    assert add_workdays(D("2025-09-26"), 20) != D("2025-10-24")


@pytest.mark.parametrize(
    "trigger, n, expected",
    [
        # National Day 2025: Sunday 09-28 is the 1st working day after Friday 09-26.
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-26", 3, "2025-09-30"),
        ("2025-09-26", 4, "2025-10-09"),  # 10-01…10-08 off
        ("2025-09-26", 6, "2025-10-11"),  # Saturday make-up day
        ("2025-09-30", 1, "2025-10-09"),
        # Spring Festival 2025
        ("2025-01-24", 1, "2025-01-26"),  # Sunday make-up day
        ("2025-01-24", 2, "2025-01-27"),
        ("2025-01-24", 3, "2025-02-05"),  # 01-28…02-04 off
        ("2025-01-24", 6, "2025-02-08"),  # Saturday make-up day
        ("2025-01-24", 20, "2025-02-27"),
        # Labour Day 2024
        ("2024-04-26", 1, "2024-04-28"),
        ("2024-04-28", 2, "2024-04-30"),
        ("2024-04-28", 3, "2024-05-06"),
        ("2024-05-10", 1, "2024-05-11"),
        # Plain weeks: the trigger day is not counted, weekends are skipped.
        ("2025-06-06", 1, "2025-06-09"),
        ("2025-06-09", 5, "2025-06-16"),
        ("2025-06-09", 0, "2025-06-09"),
    ],
)
def test_real_tiaoxiu_cases(trigger, n, expected):
    assert add_workdays(D(trigger), n) == D(expected)


def test_workdays_between_counts_the_half_open_interval():
    assert workdays_between(D("2025-09-26"), D("2025-10-30")) == 20
    assert workdays_between(D("2025-09-26"), D("2025-10-08")) == 3  # 09-28, 09-29, 09-30
    assert workdays_between(D("2025-10-30"), D("2025-09-26")) == 0
    assert workdays_between(D("2025-06-09"), D("2025-06-09")) == 0


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 10, 1)), st.integers(0, 40))
def test_add_and_between_are_inverse(day, n):
    d = add_workdays(day, n)
    assert workdays_between(day, d) == n
    assert d == day or workdays.is_workday(d)


def test_fail_closed_outside_the_known_years():
    with pytest.raises(CalendarError) as exc:
        add_workdays(D("2026-12-24"), 10)
    assert "2027" in exc.value.message
    assert "calendar-overrides.yaml" in exc.value.hint
    with pytest.raises(CalendarError):
        add_workdays(D("2003-12-01"), 1)
    with pytest.raises(CalendarError):
        workdays_between(D("2026-12-30"), D("2027-01-05"))


def test_override_year_2027():
    # A local file describing 2027 (made-up schedule): 01-01 (Friday) off, Saturday 01-02 worked.
    ov = Overrides(years=frozenset({2027}), holidays=frozenset({D("2027-01-01")}), workdays=frozenset({D("2027-01-02")}))
    # The year boundary: 2026-12-31 comes from chinese-calendar, 2027 from the override file.
    assert add_workdays(D("2026-12-31"), 1, overrides=ov) == D("2027-01-02")
    assert add_workdays(D("2026-12-31"), 2, overrides=ov) == D("2027-01-04")
    assert add_workdays(D("2027-03-05"), 1, overrides=ov) == D("2027-03-08")  # plain weekend
    assert workdays_between(D("2026-12-30"), D("2027-01-04"), overrides=ov) == 3
    with pytest.raises(CalendarError):
        add_workdays(D("2027-12-30"), 5, overrides=ov)  # 2028 is known to neither


def test_override_years_win_over_the_official_calendar():
    # A year in the override file is taken from the file alone (e.g. a schedule changed by notice).
    ov = Overrides(years=frozenset({2025}))
    assert add_workdays(D("2025-09-26"), 20, overrides=ov) == D("2025-10-24")  # no holidays in that file


def test_calendar_from_the_mini_fixture(tmp_path):
    cal = Calendar.from_dir("tests/fixtures/mini")
    assert cal.knows(2027) and cal.knows(2025) and not cal.knows(2028)
    assert cal.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")  # 2027-01-01 is a holiday there
    assert Calendar.from_dir(tmp_path).overrides == Overrides()  # no file: official calendar only


@pytest.mark.parametrize(
    "text, message",
    [
        ("years: [2027]\nholidays: [2027-01-02]\n", "field 'holidays': element [0]: expected a weekday"),
        ("years: [2027]\nworkdays: [2027-01-04]\n", "field 'workdays': element [0]: expected a weekend day"),
        ("years: [2027]\nholidays: [2028-01-03]\n", "expected a day in the years 2027, got 2028-01-03"),
        ("years: []\n", "expected a non-empty list"),
        ("year: [2027]\n", "unknown field 'year'"),
        ("years: [2027\n", "YAML syntax error"),
    ],
)
def test_bad_override_file(tmp_path, text, message):
    (tmp_path / "calendar-overrides.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        Calendar.from_dir(tmp_path)
    assert message in str(exc.value)
    assert "calendar-overrides.yaml" in str(exc.value)


def test_negative_count_is_refused():
    with pytest.raises(ValueError):
        add_workdays(D("2025-01-01"), -1)


def test_weekends_without_tiaoxiu_are_off():
    day = D("2025-07-05")  # a Saturday in July: no holiday around
    assert not workdays.is_workday(day)
    assert workdays.is_workday(day + timedelta(days=2))
