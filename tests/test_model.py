"""Model invariants that do not need files: exact ratios, strata, scope, vocabularies."""

from datetime import date
from fractions import Fraction

import pytest

from sunshine import model, vocabulary as v


def test_sample_size_is_exact_ceiling():
    s = model.Stratum(id="rest", label="其他", ratio=Fraction(3, 100))
    assert s.sample_size(0) == 0
    assert s.sample_size(1) == 1
    assert s.sample_size(100) == 3
    assert s.sample_size(101) == 4  # ceil(3.03)
    # 0.1 + 0.2 style float error cannot happen: 7% of 100 is exactly 7.
    assert model.Stratum(id="x", label="x", ratio=Fraction(7, 100)).sample_size(100) == 7


def test_sample_size_minimum_and_cap():
    s = model.Stratum(id="x", label="x", ratio=Fraction(1, 100), minimum=5)
    assert s.sample_size(10) == 5
    assert s.sample_size(3) == 3
    assert model.Stratum(id="y", label="y", ratio=Fraction(2)).sample_size(4) == 4


def test_sealed_and_remainder():
    assert model.Stratum("h", "高", Fraction(1, 5), credit_classes=(v.CreditClass.D,)).sealed
    assert model.Stratum("r", "其他", Fraction(1, 20)).remainder
    assert not model.Stratum("a", "异常", Fraction(1, 10), flags=(v.TargetFlag.ABNORMAL,)).remainder


def _target(**kw):
    base = dict(code="91350100M000100Y43", name="示例", kind=v.TargetKind.ENTERPRISE, division="379902",
                industries=("F5211",), status=v.RegistrationStatus.ACTIVE, flags=frozenset(),
                credit_class=v.CreditClass.B)
    base.update(kw)
    return model.Target(**base)


def test_scope_matching():
    scope = model.Scope(kinds=(v.TargetKind.ENTERPRISE,), divisions=("3799",), industries=("F52",))
    assert scope.matches(_target())
    assert not scope.matches(_target(kind=v.TargetKind.INDIVIDUAL))
    assert not scope.matches(_target(division="370102"))
    assert not scope.matches(_target(industries=("H6210",)))
    assert not scope.matches(_target(status=v.RegistrationStatus.DEREGISTERED))
    assert model.Scope(statuses=()).matches(_target(status=v.RegistrationStatus.REVOKED))


def test_item_list_version_in_force():
    v1 = model.ItemListVersion(1, date(2025, 1, 15), "首次公布", ())
    v2 = model.ItemListVersion(2, date(2025, 6, 1), "调整", ())
    items = model.ItemList((v1, v2))
    assert items.in_force(date(2025, 1, 14)) is None
    assert items.in_force(date(2025, 3, 1)) is v1
    assert items.in_force(date(2025, 6, 1)) is v2
    assert items.current is v2


def test_records_are_frozen():
    t = _target()
    with pytest.raises(AttributeError):
        t.name = "x"  # type: ignore[misc]


def test_every_vocabulary_member_has_a_chinese_label_and_ascii_key():
    for enum in v.Vocab.__subclasses__():
        for m in enum:
            assert m.value.isascii() and m.value
            assert any("\u4e00" <= ch <= "\u9fff" for ch in m.label), (enum, m)


def test_vocab_parse_lists_allowed_keys():
    with pytest.raises(ValueError, match=r"expected one of focus, general, got '重点'"):
        v.ItemClass.parse("重点")
    assert str(v.ResultCode.NO_ISSUE) == "no_issue"
    assert v.ResultCode.NO_ISSUE.label == "未发现问题"
