"""GB 32100-2015 check characters and legacy registration numbers."""

import pytest
from hypothesis import given, strategies as st

from sunshine import uscc

# The example code commonly printed with GB 32100-2015 (e.g. in validators' docs).
REAL_CODES = ["91350100M000100Y43"]

# Real early pilot-area codes that fail the check (listed with their computed check characters
# in the "id-rule 各种证件ID规则" notes found in public code): warn, never reject.
EARLY_PILOT_CODES = [
    ("91350100M0001TGQXM", "1"),  # 福建恒跃柳工机械销售有限公司
    ("91350211M0000XUF46", "R"),  # 厦门云上晴空航空科技有限公司
    ("91350203M0001FUE2P", "J"),  # 厦门黑脉网络科技有限公司
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    assert uscc.uscc_check_ok(code)
    assert uscc.describe_problem(code) is None


@pytest.mark.parametrize("code,computed", EARLY_PILOT_CODES)
def test_real_early_codes_with_wrong_check_character_warn(code, computed):
    severity, message = uscc.describe_problem(code)
    assert severity == "warning"
    assert message == f"USCC check character: expected {computed!r}, got {code[17]!r} (GB 32100)"


def test_wrong_check_character_is_a_warning_naming_both_characters():
    severity, message = uscc.describe_problem("91350100M000100Y44")
    assert severity == "warning"
    assert message == "USCC check character: expected '3', got '4' (GB 32100)"


@pytest.mark.parametrize(
    "code",
    ["", "9135010", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100I43",
     "91AB0100M000100Y43", "9135 100M000100Y43", "91350100m000100y43"],
)
def test_malformed_codes_are_errors(code):
    severity, message = uscc.describe_problem(code)
    assert severity == "error"
    assert repr(code) in message


def test_opaque_ids_are_accepted():
    assert uscc.describe_problem("P-2025-food-0001") is None
    assert uscc.describe_problem("P-")[0] == "error"


def test_legacy_numbers():
    # ISO 7064 MOD 11,10: build one valid number and check every wrong last digit warns.
    base = "37090020000001"
    valid = [base + d for d in "0123456789" if uscc.legacy_check_ok(base + d)]
    assert len(valid) == 1
    assert uscc.describe_problem(valid[0]) is None
    for d in "0123456789":
        if base + d != valid[0]:
            assert uscc.describe_problem(base + d)[0] == "warning"


def test_check_character_rejects_bad_input():
    with pytest.raises(ValueError, match="expected 17 characters, got 3"):
        uscc.check_character("913")
    with pytest.raises(ValueError, match="'I' is not in the USCC alphabet"):
        uscc.check_character("91350100M000100I4")


body = st.text(alphabet=uscc.ALPHABET, min_size=10, max_size=10)


@given(st.sampled_from("159Y"), st.sampled_from("123"), st.text("0123456789", min_size=6, max_size=6), body)
def test_generated_codes_round_trip(a, b, division, rest):
    first17 = a + b + division + rest[:9]
    code = first17 + uscc.check_character(first17)
    assert uscc.uscc_check_ok(code)
    # Any single substitution of the check character is detected.
    for c in uscc.ALPHABET:
        if c != code[17]:
            assert not uscc.uscc_check_ok(code[:17] + c)
