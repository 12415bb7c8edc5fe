"""The built-in phone field: text stored as E.164, found however it is typed in a filter."""

from __future__ import annotations

import re

from contacts.kinds.text import TextKind
from contacts.phones import PhoneError, normalize_phone

_PHONE_CHARS_RE = re.compile(r"[\s().\-/]")


class PhoneKind(TextKind):
    """Not registered under a type name: custom fields are plain text."""

    def filter_text(self, value: str, *, whole: bool) -> str:
        """A phone typed any common way, as stored: E.164 when it parses, else its digits."""
        compact = _PHONE_CHARS_RE.sub("", value)
        if whole:
            try:
                return normalize_phone(compact).e164
            except PhoneError:
                return compact
        return compact


PHONE = PhoneKind()
