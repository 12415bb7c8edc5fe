"""The :class:`Kind` base class and the registry of kinds, one per field type.

A kind owns everything that depends on a field's type, the way Django's model ``Field``
classes own ``to_python``, ``formfield`` and ``value_to_string``: parsing input (form value,
CSV cell or API JSON) into the stored form, showing a stored value to people, the CSV export
cell, the pencil editor's form field, filter operators and their conditions, the sort
expression and type inference. Code outside ``contacts.kinds`` asks the field's kind; it never
compares type names.
"""

from __future__ import annotations

import html
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar, Protocol

from django import forms
from django.db.models import ExpressionWrapper, F, JSONField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone
from django.utils.safestring import SafeData, SafeString

from contacts.models import Contact, FieldType

DEFAULT_LIST_SEPARATOR = ";"
TYPE_CHOICES = FieldType.choices
DEFAULT_TYPE: str = FieldType.TEXT
INPUT_ATTRS = {"class": "form-control form-control-sm", "autocomplete": "off"}


class FieldLike(Protocol):
    """What a kind needs of a field (``contacts.fields.Field``, which sits above the kinds)."""

    key: str
    label: str
    builtin: bool

    @property
    def lookup(self) -> str: ...


class InlineKeyMixin:
    """Writes the JSON key into the SQL on SQLite instead of binding it as a parameter.

    SQLite uses an expression index only for the very same expression, and a bound
    parameter never equals the literal the index was created with; PostgreSQL's driver
    already sends the key inline.

    It also writes JSON's type names in one order. Django lists them from a frozenset
    (``IN ('null','false','true')``), whose order follows the process's string hash seed: an
    index built by one process then did not serve the filters of another (1.5 s instead of
    3 ms for a filtered page at 500,000 contacts).
    """

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sqlite(compiler, connection)  # type: ignore[misc]
        literals = ("'" + str(p).replace("'", "''").replace("%", "%%") + "'" for p in params)
        as_listed = ",".join(repr(v) for v in connection.ops.jsonfield_datatype_values)
        in_order = ",".join(repr(v) for v in sorted(connection.ops.jsonfield_datatype_values))
        sql = sql.replace(f"IN ({as_listed})", f"IN ({in_order})")
        return sql % tuple(literals), ()


class TraitValue(InlineKeyMixin, KeyTransform):
    """A custom field's JSON value (compares and sorts numbers as numbers)."""

    def __init__(self, key: str) -> None:
        # Typed from the start, as ``traits__key`` is: a lookup built on it then prepares
        # its value as JSON (a jsonb bound on PostgreSQL) the way Django's own would.
        super().__init__(key, ExpressionWrapper(F("traits"), output_field=JSONField()))


class TraitText(InlineKeyMixin, KeyTextTransform):
    """A custom field's value as text."""

    def __init__(self, key: str) -> None:
        super().__init__(key, ExpressionWrapper(F("traits"), output_field=JSONField()))


class CoercionError(ValueError):
    """A value that does not fit a field's type; ``str()`` is a message for people."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {problem} (got {shown(value)})")


class FilterError(ValueError):
    """A filter that cannot be applied; ``str()`` names the field and the problem."""


def shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class Operator:
    key: str
    label: str
    # How many values the operator takes: 0 (is set), 1, 2 (between) or "many" (tags).
    arity: int | str = 1
    # What kind of value input the form shows: "text", "number", "date", "days", "tags".
    value_kind: str = "text"


IS_SET = Operator("set", "is set", 0)
NOT_SET = Operator("unset", "is not set", 0)


def escape_text(text: str) -> str:
    """``text`` for HTML, as Django's ``conditional_escape`` gives it, without its check for
    lazy strings: this runs for every cell of the list's page (docs/performance.md)."""
    if isinstance(text, SafeData):
        return text
    return SafeString(html.escape(str(text)))


class Kind:
    """One value type. Subclasses override the parts that differ from plain text."""

    name: ClassVar[str] = ""
    operators: ClassVar[tuple[Operator, ...]] = (IS_SET, NOT_SET)
    # The contact page's display of a value (a chip list, a Yes/No badge, plain text).
    value_template: ClassVar[str] = "contacts/values/text.html"
    # Tags have their own section and editor on the contact page, not a field row.
    own_editor: ClassVar[bool] = False
    filter_placeholder: ClassVar[str] = ""
    # Values that compare in order as stored (numbers, moments): an index holds the raw value.
    ordered_index: ClassVar[bool] = False

    @property
    def label(self) -> str:
        """The kind's name for people: "Date/time", "Email"."""
        return FieldType(self.name).label if self.name in FieldType.values else self.name.title()

    # --- input --------------------------------------------------------------------------------
    def parse(
        self, value: Any, *, label: str = "value", list_separator: str = DEFAULT_LIST_SEPARATOR
    ) -> Any:
        """The stored form of ``value`` (``None`` and blank mean "no value"), or
        :class:`CoercionError` naming ``label``."""
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        return self.to_python(value, label=label, list_separator=list_separator)

    def to_python(self, value: Any, *, label: str, list_separator: str) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, source: Kind, *, label: str = "value") -> Any:
        """A value stored by the ``source`` kind, as this kind stores it (a field's kind
        change), or :class:`CoercionError`. Read through ``source``'s CSV export cell, the
        form every kind's ``parse`` reads: ``42`` becomes ``"42"`` as text and back."""
        return self.parse(source.export(value), label=label)

    def stores_as_is(self, text: str) -> bool:
        """A cheap yes: ``parse`` would store this trimmed text unchanged (no means "ask it")."""
        return False

    def read(self, field: FieldLike, contact: Contact) -> Any:
        if field.builtin:
            return getattr(contact, field.key)
        return contact.traits.get(field.key)

    # --- output -------------------------------------------------------------------------------
    def display(self, value: Any, tz: tzinfo | None = None) -> str:
        """A stored value as people read it, in the viewer's zone (the active one by default)."""
        if value is None or value == "":
            return ""
        return self.text_for_people(value, tz or timezone.get_current_timezone())

    def text_for_people(self, value: Any, tz: tzinfo) -> str:
        return str(value)

    def display_html(self, value: Any, tz: tzinfo | None = None) -> str:
        """The list cell's content: escaped text unless the kind draws something richer."""
        return escape_text(self.display(value, tz))

    def export(self, value: Any) -> str:
        """The CSV export cell: the form the importer reads back to the same stored value."""
        return "" if value is None else str(value)

    # --- forms --------------------------------------------------------------------------------
    def formfield(self, field: FieldLike) -> forms.Field:
        """The new-contact form's input for a custom field of this kind."""
        return forms.CharField(label=field.label, required=False, max_length=10_000)

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        """The pencil editor's input; its ``clean`` gives what :meth:`parse` reads."""
        return forms.CharField(
            label=field.label, required=False, strip=False, widget=forms.TextInput(INPUT_ATTRS)
        )

    def editor_initial(self, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
        return "" if value is None else str(value)

    # --- filters and sorting ------------------------------------------------------------------
    def filter_value(self, field: FieldLike, operator: Operator, raw: str) -> Any:
        """A value typed into a filter, as the condition compares it (CoercionError if not)."""
        return raw

    def filter_form_values(self, value: str, value2: str) -> list[str]:
        return [value, value2]

    def q(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        if op == "set":
            return self.is_set(field)
        if op == "unset":
            return ~self.is_set(field)
        return self.condition(field, op, values)

    def ids_alone(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> QuerySet | None:
        """The ids of the contacts this one condition matches (one column, maybe repeated),
        read from an index of the kind's own; None to select the contacts with ``q``."""
        return None

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        raise FilterError(f"{field.label}: unknown operator {op}")

    def is_set(self, field: FieldLike) -> Q:
        if not field.builtin:
            return Q(traits__has_key=field.key)
        return Q(**{f"{field.key}__isnull": False})

    def negate(self, field: FieldLike, condition: Q) -> Q:
        """Not ``condition``, counting contacts without a value as not matching ``condition``:
        "city is not Pune" includes contacts without a city."""
        return ~self.is_set(field) | (self.is_set(field) & ~condition)

    def sort(self, field: FieldLike, *, descending: bool) -> Any:
        """How to order by a field: the column, or the trait's JSON value (numbers as numbers).

        Missing values sort last both ways. ``NULLS LAST`` is only asked for where a value can
        be missing: on a NOT NULL column it would stop PostgreSQL from walking the column's
        index (``created_at DESC`` indexes keep NULLs first).
        """
        if field.builtin:
            expression = F(field.key)
            nullable = Contact._meta.get_field(field.key).null
        else:
            expression, nullable = TraitValue(field.key), True
        if descending:
            return expression.desc(nulls_last=True) if nullable else expression.desc()
        return expression.asc(nulls_last=True) if nullable else expression.asc()

    # --- indexes ------------------------------------------------------------------------------
    def index_expression(self, field: FieldLike) -> Any | None:
        """What an index on this custom field holds, or None when the kind has no index.

        The kind's filters and sort compare exactly this expression (the database only uses
        an expression index for the very same expression): ordered kinds sort and compare
        the raw JSON value, the same ``TraitValue`` as ``sort``.
        """
        if field.builtin or not self.ordered_index:
            return None
        return TraitValue(field.key)

    def compare(self, field: FieldLike, op: str, value: Any) -> Q:
        """``field <op> value`` (op: exact, gt, gte, lt, lte), on a custom field through the
        expression its index holds."""
        if field.builtin:
            return Q(**{f"{field.key}__{op}": value})
        expression = TraitValue(field.key)
        return Q(expression.get_lookup(op)(expression, value))

    # --- inference ----------------------------------------------------------------------------
    # Kinds with a rank are tried in rank order; text takes what none of them claims.
    inference_rank: ClassVar[int | None] = None

    def fits_json(self, value: Any) -> bool:
        """Whether an API trait's first JSON value makes a field of this kind."""
        return False

    def fits_cells(self, samples: Sequence[str]) -> bool:
        """Whether every non-empty CSV cell of a column reads as this kind."""
        try:
            for sample in samples:
                self.parse(sample)
        except CoercionError:
            return False
        return True


KINDS: dict[str, Kind] = {}


def register(kind_class: type[Kind]) -> type[Kind]:
    KINDS[kind_class.name] = kind_class()
    return kind_class


def kind_for(type_name: str) -> Kind:
    """The kind of a type name (an Attribute's ``type``, or "tags")."""
    return KINDS[type_name]


def is_field_type(type_name: str) -> bool:
    """Whether a custom attribute may have this type (tags are built-in only)."""
    return type_name in FieldType.values


def _ranked() -> list[Kind]:
    ranked = [k for k in KINDS.values() if k.inference_rank is not None]
    return sorted(ranked, key=lambda k: k.inference_rank or 0)


def infer(value: Any) -> str:
    """The type of a trait seen for the first time in the API, from its JSON value."""
    return next((k.name for k in _ranked() if k.fits_json(value)), DEFAULT_TYPE)


def suggest(samples: Sequence[str]) -> str:
    """The type that fits every non-empty cell of a CSV column, else text."""
    values = [s for s in samples if s and s.strip()]
    if not values:
        return DEFAULT_TYPE
    return next((k.name for k in _ranked() if k.fits_cells(values)), DEFAULT_TYPE)
