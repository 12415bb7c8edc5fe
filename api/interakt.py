"""Interakt's Get Users filters (``{trait, op, val}`` and ``supr_op``) as the list's filters.

The filters become one group of the contact list's filter model
(:class:`contacts.filtering.FilterTree`): all of them, or any one with ``supr_op`` "or".
The list's :class:`contacts.filters.Filter` does the querying; this module only
translates Interakt's names (``created_at_utc``, ``neq``, ``gt`` on dates, ...) and reports
a filter that does not translate as ``filters.<n>.trait|op|val``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.errors import ApiError
from api.schemas import FilterIn
from contacts.fields import TAGS, FieldRegistry
from contacts.filtering import FilterTree
from contacts.filters import Filter, FilterError, build_filter, operator_for, operators_for
from contacts.models import FieldType

TIME_TRAITS = {"created_at_utc": "created_at", "modified_at_utc": "updated_at"}
# Interakt's spellings of the contact list's operators (contacts.filters), by field type.
OPERATOR_ALIASES: dict[str, dict[str, str]] = {
    "*": {"neq": "ne", "is_set": "set", "is_not_set": "unset", "starts_with": "startswith"},
    FieldType.DATETIME: {"gt": "after", "lt": "before", "eq": "on"},
    FieldType.LIST: {"eq": "contains", "ne": "not_contains", "neq": "not_contains"},
    TAGS: {"contains": "any", "eq": "any", "not_contains": "none", "ne": "none", "neq": "none"},
}


def _filter_error(index: int, message: str, part: str = "val") -> ApiError:
    field = f"filters.{index}.{part}"
    return ApiError(422, "invalid_filter", f"filters[{index}]: {message}", field)


def _filter_values(val: Any, index: int) -> list[str]:
    items = val if isinstance(val, list) else [] if val is None else [val]
    values = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            values.append(str(item))
        else:
            raise _filter_error(index, "val must be text, a number, true/false or a list of them")
    return values


def interakt_filter(item: FilterIn, index: int, registry: FieldRegistry) -> Filter:
    """One Interakt-style ``{trait, op, val}`` as the contact list's :class:`Filter`."""
    name = item.trait.strip()
    target = registry.get(TIME_TRAITS[name]) if name in TIME_TRAITS else registry.resolve(name)
    if target is None:
        raise _filter_error(index, f'no field called "{item.trait}"', "trait")
    op = item.op.strip().lower()
    op = OPERATOR_ALIASES.get(target.type, {}).get(op, op)
    op = OPERATOR_ALIASES["*"].get(op, op)
    values = _filter_values(item.val, index)
    if target.type == FieldType.BOOLEAN and op in {"eq", "ne"} and len(values) == 1:
        wanted = values[0].strip().lower() in {"true", "1", "yes"}
        op = "true" if wanted == (op == "eq") else "false"
    if operator_for(target, op) is None:
        allowed = ", ".join(o.key for o in operators_for(target))
        raise _filter_error(index, f"op for {target.label} must be one of {allowed}", "op")
    try:
        flt = build_filter(target, op, values)
        # Built here, not only when queried, so that a value out of range is named by index.
        flt.q()
    except FilterError as exc:
        raise _filter_error(index, str(exc)) from None
    except (OverflowError, ValueError):  # e.g. "in the last 10**12 days"
        raise _filter_error(index, "the value is out of range") from None
    return flt


def interakt_filters(
    items: Sequence[FilterIn], registry: FieldRegistry, *, supr_op: str = "and"
) -> FilterTree:
    """The filters as one group: all must hold, or any one with ``supr_op`` "or"."""
    conditions = [interakt_filter(item, index, registry) for index, item in enumerate(items)]
    return FilterTree.of(conditions, any=supr_op == "or")
