"""Free text people type (a description, a name, an address): what it may not contain."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 and C1 control characters other than tab and line breaks: nothing a person types, often a sign of a broken
# client or of an attempt to smuggle something into a log line or a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def no_control_characters(text: str) -> str:
    found = _CONTROL.search(text)
    if found:
        raise ValueError(f"control character U+{ord(found.group()):04X} at position {found.start()} is not allowed")
    return text


PlainText = Annotated[str, AfterValidator(no_control_characters)]
