"""Column mapping: which contact field each CSV column fills, and what a row becomes.

The same :class:`RowPlanner` turns cells into values for the wizard's preview, the review's
estimate and the background import, so that what the preview shows is what gets stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bulkupload.csvfile import UnreadableRecord
from contacts.fields import TAGS, Field, FieldRegistry, attribute_key_for, column_max_length
from contacts.kinds import DEFAULT_LIST_SEPARATOR, DEFAULT_TYPE, CoercionError, suggest
from contacts.phones import Phone, PhoneError, normalize_phone

# Built-in fields a column may fill. The user id is left out: uploads match by phone only.
BUILTIN_TARGETS = ("name", "phone", "country_code", "email", "whatsapp_opted", TAGS)
SKIP = {"kind": "skip"}
CACHE_LIMIT = 5000
_MISSING: Any = object()


def mappable_fields(registry: FieldRegistry) -> list[Field]:
    """The fields a CSV column may be mapped to; hidden custom fields are not offered."""
    return [registry[key] for key in BUILTIN_TARGETS] + [f for f in registry.custom if not f.hidden]


def looks_like_phone_column(samples: Sequence[str]) -> bool:
    values = [s for s in samples if s.strip()]
    if not values:
        return False
    good = 0
    for value in values:
        digits = sum(c.isdigit() for c in value)
        if digits >= 7 and digits >= len(value.strip().lstrip("'+")) - 4:
            good += 1
    return good >= max(1, round(0.8 * len(values)))


def column_samples(rows: Sequence[Sequence[str]], index: int, limit: int = 50) -> list[str]:
    return [row[index] if index < len(row) else "" for row in rows[:limit]]


def auto_map(
    headers: Sequence[str], rows: Sequence[Sequence[str]], registry: FieldRegistry
) -> list[dict[str, Any]]:
    """Map headers to fields by key, label or alias; other named columns become new fields.

    When no header names the phone, a column whose values look like phone numbers is used.
    """
    allowed = {f.key for f in mappable_fields(registry)}
    used: set[str] = set()
    mapping: list[dict[str, Any]] = []
    for index, header in enumerate(headers):
        target = registry.resolve(header) if header else None
        if target is not None and target.key in allowed and target.key not in used:
            used.add(target.key)
            mapping.append({"kind": "field", "key": target.key})
        elif target is not None or not header:
            mapping.append(dict(SKIP))
        else:
            samples = column_samples(rows, index)
            mapping.append({"kind": "new", "label": header, "type": suggest(samples)})
    if "phone" not in used:
        for index, entry in enumerate(mapping):
            if entry["kind"] != "field" and looks_like_phone_column(column_samples(rows, index)):
                mapping[index] = {"kind": "field", "key": "phone"}
                break
    return mapping


def has_phone(mapping: Sequence[dict[str, Any]]) -> bool:
    return any(m.get("kind") == "field" and m.get("key") == "phone" for m in mapping)


def column_coercer(target: Field, list_separator: str) -> Callable[[str], Any]:
    """``target.parse`` for one column's non-empty cells, cheaper for built-in text fields.

    A name or email cell that is already what would be stored (trimmed, within the column's
    limit, for an email a plain ASCII address) is returned as it is; anything else goes to
    ``target.parse``, which decides and words the error.
    """
    coerce = partial(target.parse, list_separator=list_separator)
    limit = column_max_length(target.key) if target.builtin else None
    if limit is None:
        return coerce
    stored_as_is = target.kind.stores_as_is

    def coerce_text(raw: str) -> Any:
        text = raw.strip()
        if text and len(text) <= limit and stored_as_is(text):
            return text
        return coerce(raw)

    return coerce_text


@dataclass(slots=True)
class PlannedRow:
    phone: Phone | None = None
    builtin: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cell_errors: dict[int, str] = field(default_factory=dict)
    cell_values: dict[int, str] = field(default_factory=dict)  # export form, for the preview


class RowPlanner:
    """Turns one CSV record into a contact's values, or the reasons it cannot be imported."""

    def __init__(
        self,
        mapping: Sequence[dict[str, Any]],
        registry: FieldRegistry,
        *,
        list_separator: str = DEFAULT_LIST_SEPARATOR,
        for_preview: bool = False,
    ) -> None:
        self.for_preview = for_preview
        self.list_separator = list_separator or DEFAULT_LIST_SEPARATOR
        self.phone_index: int | None = None
        self.country_code_index: int | None = None
        self.columns: list[tuple[int, Field]] = []
        for index, entry in enumerate(mapping):
            kind = entry.get("kind")
            if kind == "field":
                target = registry.get(entry["key"])
                if target is None:
                    continue
                if target.key == "phone":
                    self.phone_index = index
                elif target.key == "country_code":
                    self.country_code_index = index
                else:
                    self.columns.append((index, target))
            elif kind == "new":
                label = entry.get("label") or ""
                field_type = entry.get("type") or DEFAULT_TYPE
                key = attribute_key_for(label)
                self.columns.append((index, Field(key, label, field_type, builtin=False)))
        # Coercion is a pure function of the cell: columns with few distinct values (cities,
        # TRUE/FALSE, dates, list cells) are coerced once per value. Bounded, so memory stays flat.
        self._caches: dict[int, dict[str, Any]] = {index: {} for index, _ in self.columns}
        self._plan_columns = [
            (index, target, column_coercer(target, self.list_separator), self._caches[index])
            for index, target in self.columns
        ]

    @staticmethod
    def _cell(cells: Sequence[str], index: int | None) -> str:
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def phone(self, cells: Sequence[str]) -> Phone:
        number = self._cell(cells, self.phone_index)
        if not number:
            raise PhoneError("phone number is empty")
        return normalize_phone(number, self._cell(cells, self.country_code_index) or None)

    def _with_phone(self, cells: Sequence[str]) -> PlannedRow:
        """A new row with the phone planned, or its error; an unreadable record's problem."""
        row = PlannedRow()
        if isinstance(cells, UnreadableRecord):
            row.errors.append(cells.problem)
            if self.phone_index is not None:  # where the preview shows it
                row.cell_errors[self.phone_index] = cells.problem
            return row
        try:
            row.phone = self.phone(cells)
            if self.phone_index is not None:
                row.cell_values[self.phone_index] = row.phone.e164
            if self.country_code_index is not None:
                row.cell_values[self.country_code_index] = row.phone.country_code
        except PhoneError as exc:
            index = self.country_code_index if exc.field == "country_code" else self.phone_index
            row.errors.append(f"{exc.label}: {exc}")
            if index is not None:
                row.cell_errors[index] = str(exc)
        return row

    def plan_reference(self, cells: Sequence[str]) -> PlannedRow:
        """The rule itself: every cell through ``Field.parse``, no per-column coercer and no
        cache. :meth:`plan` is its fast path and must give exactly the same row (a property
        test holds them together, tests/contacts/test_coercion_fast.py). The wizard's preview
        uses this one: a few rows, where clarity beats speed."""
        row = self._with_phone(cells)
        if isinstance(cells, UnreadableRecord):
            return row
        for index, target in self.columns:
            raw = self._cell(cells, index)
            if raw == "":
                continue  # an empty cell leaves the stored value alone
            try:
                value = target.parse(raw, list_separator=self.list_separator)
            except CoercionError as exc:
                row.errors.append(f"{target.label}: {exc.problem} (got {raw!r})")
                row.cell_errors[index] = exc.problem
                continue
            if self.for_preview:
                row.cell_values[index] = target.export(value)
            if target.key == TAGS:
                row.tags.extend(value or [])
            elif target.builtin:
                row.builtin[target.key] = value
            elif value is not None:
                row.traits[target.key] = value
        return row

    def plan(self, cells: Sequence[str]) -> PlannedRow:
        """:meth:`plan_reference`, fast: each column's coercer, and its cache of cells seen."""
        row = self._with_phone(cells)
        if isinstance(cells, UnreadableRecord):
            return row
        count = len(cells)
        for index, target, coerce, cache in self._plan_columns:
            if index >= count:
                continue
            raw = cells[index].strip()
            if not raw:
                continue  # an empty cell leaves the stored value alone
            value = cache.get(raw, _MISSING)
            if value is _MISSING:
                try:
                    value = coerce(raw)
                except CoercionError as exc:
                    value = exc
                if len(cache) < CACHE_LIMIT:
                    cache[raw] = value
            if isinstance(value, CoercionError):
                row.errors.append(f"{target.label}: {value.problem} (got {raw!r})")
                row.cell_errors[index] = value.problem
                continue
            if self.for_preview:
                # As stored, in the file's own form: the importer reads this back unchanged.
                row.cell_values[index] = target.export(value)
            if target.key == TAGS:
                row.tags.extend(value or [])
            elif target.builtin:
                row.builtin[target.key] = value
            elif value is not None:
                row.traits[target.key] = value
        return row
