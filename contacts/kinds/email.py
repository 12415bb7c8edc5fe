"""The built-in email field: text that must be an address Django's EmailValidator accepts."""

from __future__ import annotations

import re
import zoneinfo
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.kinds.base import INPUT_ATTRS, CoercionError
from contacts.kinds.text import TextKind

if TYPE_CHECKING:
    from contacts.kinds.base import FieldLike

# Plain ASCII addresses: a dot-atom local part, then labels of letters, digits and inner
# hyphens (at most 63 characters) ending in a top-level label of letters only. Every match is
# an address that Django's EmailValidator accepts (a subset of its patterns).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}")
EMAIL_MAX_LENGTH = 320  # EmailValidator's limit (RFC 3696)


def is_plain_email(value: str) -> bool:
    """True for a plain ASCII address, which EmailValidator accepts; False means "ask it"."""
    return len(value) <= EMAIL_MAX_LENGTH and _PLAIN_EMAIL_RE.fullmatch(value) is not None


def is_valid_email(value: str) -> bool:
    """EmailValidator's decision, without running it for plain ASCII addresses."""
    return is_plain_email(value) or email_reference(value)


def email_reference(value: str) -> bool:
    """Django's EmailValidator, the reference for :func:`is_valid_email`."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


class EmailKind(TextKind):
    """Not registered under a type name: custom fields are plain text."""

    def to_python(self, value: Any, *, label: str, list_separator: str) -> str:
        text = super().to_python(value, label=label, list_separator=list_separator)
        if text and not is_valid_email(text):
            raise CoercionError(label, value, "not a valid email address")
        return text

    def stores_as_is(self, text: str) -> bool:
        return is_plain_email(text)

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        return forms.CharField(
            label=field.label,
            required=False,
            strip=False,
            widget=forms.TextInput({**INPUT_ATTRS, "inputmode": "email"}),
        )


EMAIL = EmailKind()
