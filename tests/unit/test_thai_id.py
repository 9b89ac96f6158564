"""Thai national ID numbers: the check digit, validation messages, masking in free text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hotline_common import thai_id

# 12 digits not starting with 0, completed with their check digit.
first12 = st.from_regex(r"[1-8][0-9]{11}", fullmatch=True)


def complete(digits12: str) -> str:
    return digits12 + str(thai_id.check_digit(digits12))


def test_a_known_number_and_its_check_digit() -> None:
    # 1-1037-00123-45-? : 1*13 + 1*12 + 0*11 + 3*10 + 7*9 + 0*8 + 0*7 + 1*6 + 2*5 + 3*4 + 4*3 + 5*2 = 168;
    # 168 mod 11 = 3; 11 - 3 = 8.
    assert thai_id.check_digit("110370012345") == 8
    assert thai_id.is_valid("1-1037-00123-45-8") and thai_id.is_valid("1 1037 00123 45 8")
    assert not thai_id.is_valid("1103700123459")


@given(first12)
def test_every_completed_number_is_valid_and_every_other_last_digit_is_not(digits12: str) -> None:
    number = complete(digits12)
    assert thai_id.is_valid(number) and thai_id.validate(number) == number
    for wrong in set("0123456789") - {number[-1]}:
        assert not thai_id.is_valid(digits12 + wrong)


@given(first12, st.integers(0, 11).filter(lambda p: p != 2), st.integers(1, 9))
@example("600001127788", 1, 1)  # remainders 0 and 10 share the check digit 1
def test_one_mistyped_digit_is_caught(digits12: str, position: int, shift: int) -> None:
    """The weights are 13..2; all but the third digit's (11) are non-zero mod 11, so one mistyped digit moves the
    sum mod 11 — and is caught unless (11 - r) % 10 folds the two remainders 0 and 10 onto the same check digit."""
    number = complete(digits12)
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    if typo[0] != "0" and thai_id.check_digit(typo[:12]) == int(typo[12]):
        total = sum(int(d) * (13 - i) for i, d in enumerate(number[:12]))
        total_typo = sum(int(d) * (13 - i) for i, d in enumerate(typo[:12]))
        assert {total % 11, total_typo % 11} == {0, 10}
    else:
        assert not thai_id.is_valid(typo)


@pytest.mark.parametrize(("typed", "message"), [
    ("123456789012", "13 digits"), ("11037001234580", "13 digits"), ("๑๑๐๓๗๐๐๑๒๓๔๕๘", "13 digits"),
    ("0103700123458", "does not start with 0"), ("1103700123459", "check digit"),
])
def test_validation_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        thai_id.validate(typed)


def test_masking_keeps_only_the_last_four_digits() -> None:
    assert thai_id.mask("1103700123458") == "x-xxxx-xxxx3-45-8"


def test_valid_numbers_in_free_text_are_masked_and_nothing_else() -> None:
    text = ("แม่ชื่อสมศรี เลขบัตร 1-1037-00123-45-8 โทร 081-234-5678 "
            "เลขผิด 1103700123459 เรื่อง 1300-2569-000123 ยาว 11037001234581")
    masked = thai_id.mask_in_text(text)
    assert masked == ("แม่ชื่อสมศรี เลขบัตร x-xxxx-xxxx3-45-8 โทร 081-234-5678 "
                      "เลขผิด 1103700123459 เรื่อง 1300-2569-000123 ยาว 11037001234581")
    assert thai_id.find(text) == ["1103700123458"]


@given(first12, st.text(alphabet="กขคงจ abc.,", max_size=20), st.text(alphabet="กขคงจ abc.,", max_size=20))
def test_no_valid_number_survives_masking(digits12: str, before: str, after: str) -> None:
    number = complete(digits12)
    masked = thai_id.mask_in_text(before + number + after)
    assert number not in masked and thai_id.find(masked) == [] and masked.endswith(number[-1] + after)
