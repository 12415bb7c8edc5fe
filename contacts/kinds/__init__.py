"""Field kinds: everything that depends on a field's type, one class per type.

Importing the package registers every kind (see :mod:`contacts.kinds.base`).
"""

from __future__ import annotations

# Imported for their @register side effect: each module adds its kind to KINDS.
from contacts.kinds import boolean, datetime, list, number, tags, text  # noqa: F401
from contacts.kinds.base import (
    DEFAULT_LIST_SEPARATOR,
    DEFAULT_TYPE,
    TYPE_CHOICES,
    CoercionError,
    FilterError,
    Kind,
    Operator,
    infer,
    is_field_type,
    kind_for,
    suggest,
)

__all__ = [
    "DEFAULT_LIST_SEPARATOR",
    "DEFAULT_TYPE",
    "TYPE_CHOICES",
    "CoercionError",
    "FilterError",
    "Kind",
    "Operator",
    "infer",
    "is_field_type",
    "kind_for",
    "suggest",
]
