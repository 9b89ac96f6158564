"""Thai national ID numbers (เลขประจำตัวประชาชน): 13 digits, the last a check digit over the first 12.

Validated wherever one is typed, and masked everywhere but the authorised case view: in events, alerts, logs and
lists only the last four digits remain, so a number can be matched by a person who has it without being readable.
"""

from __future__ import annotations

import re

# 13 digits written whole or grouped as on the card (1-2345-67890-12-3), with dashes or spaces; not part of a
# longer run of digits (a phone number, a case number).
_CANDIDATE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12}(?![0-9])")
_SEPARATORS = re.compile(r"[ -]")


def check_digit(first12: str) -> int:
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return (11 - total % 11) % 10


def normalise(text: str) -> str:
    """The 13 digits of `text` without separators (not checked)."""
    return _SEPARATORS.sub("", text.strip())


def is_valid(text: str) -> bool:
    digits = normalise(text)
    return len(digits) == 13 and digits.isascii() and digits.isdigit() and digits[0] != "0" \
        and check_digit(digits[:12]) == int(digits[12])


def validate(text: str) -> str:
    """The number as 13 digits, or ValueError saying what is wrong (for a form field's 422)."""
    digits = normalise(text)
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 13:
        raise ValueError("a Thai national ID has 13 digits (เลขประจำตัวประชาชน 13 หลัก)")
    if digits[0] == "0":
        raise ValueError("a Thai national ID does not start with 0")
    if check_digit(digits[:12]) != int(digits[12]):
        raise ValueError("the check digit does not match: a digit is mistyped (เลขตรวจสอบไม่ถูกต้อง)")
    return digits


def mask(digits: str) -> str:
    """x-xxxx-xxxx8-90-1 style: only the last four digits stay readable."""
    d = normalise(digits)
    return f"x-xxxx-xxxx{d[9]}-{d[10:12]}-{d[12]}"


def mask_in_text(text: str) -> str:
    """Every valid national ID in free text masked; other digit runs (phones, invalid numbers) left as typed."""
    return _CANDIDATE.sub(lambda m: mask(m.group(0)) if is_valid(m.group(0)) else m.group(0), text)


def find(text: str) -> list[str]:
    """The valid national IDs in free text, as 13 digits."""
    return [normalise(m.group(0)) for m in _CANDIDATE.finditer(text) if is_valid(m.group(0))]
