"""The field registry: one description of every field a contact has.

Built-in fields (columns of ``Contact``) and custom attributes (``Attribute`` rows, values
in ``Contact.traits``) are described by the same :class:`Field`, so that the list's columns
and filters, the pencil editor, CSV mapping and the API treat them alike. Everything that
depends on a field's type belongs to its kind (``contacts.kinds``); a field delegates to it.
Nothing else branches on built-in versus custom except :meth:`Field.parse` (a column's length
limit) and :attr:`Field.lookup`.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cached_property
from typing import Any, NamedTuple

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet

from contacts.kinds import DEFAULT_LIST_SEPARATOR, DEFAULT_TYPE, CoercionError, Kind, kind_for
from contacts.kinds.base import Operator
from contacts.kinds.email import EMAIL
from contacts.kinds.phone import PHONE
from contacts.models import Attribute, Contact

TAGS = "tags"
CHANGING = "cannot be written while its kind is being changed or it is being deleted; try later"


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    type: str  # a FieldType value, or "tags"
    builtin: bool
    editable: bool = True
    # Other names the API and CSV headers may use for this field (compared by normalize_name).
    aliases: tuple[str, ...] = ()
    sortable: bool = True
    attribute_id: int | None = None
    # A custom field with an expression index (``Attribute.indexed``).
    indexed: bool = False
    # A custom field left out of the column and filter pickers and of CSV mapping.
    hidden: bool = False
    # A custom field whose values a kind change or a delete is rewriting: writes are refused.
    changing: bool = False
    help_text: str = ""
    # What a built-in column stores when cleared (custom traits are removed instead).
    empty: Any = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    # The kind of ``type``; built-ins may name a narrower one (email, phone).
    kind: Kind = field(default=None, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", kind_for(self.type))

    @property
    def lookup(self) -> str:
        """The ORM path of the value: a column, or a key inside ``traits``."""
        return self.key if self.builtin else f"traits__{self.key}"

    def get(self, contact: Contact) -> Any:
        return self.kind.read(self, contact)

    def parse(self, value: Any, *, list_separator: str = DEFAULT_LIST_SEPARATOR) -> Any:
        """The stored form of ``value``, or :class:`CoercionError` naming this field.

        A field whose values a kind change or a delete is rewriting takes no value (every
        entry point parses through here), so that none is written behind the job.
        """
        if self.changing:
            raise CoercionError(self.label, value, CHANGING)
        result = self.kind.parse(value, label=self.label, list_separator=list_separator)
        if self.builtin and result is None:
            return self.empty
        if self.builtin and isinstance(result, str):
            # The column's limit, checked here so that PostgreSQL never sees an overlong value.
            max_length = column_max_length(self.key)
            if max_length is not None and len(result) > max_length:
                raise CoercionError(self.label, value, f"longer than {max_length} characters")
        return result

    def display(self, value: Any, tz: tzinfo | None = None) -> str:
        """``value`` as people read it, in ``tz`` (the active time zone by default)."""
        return self.kind.display(value, tz)

    def display_html(self, value: Any, tz: tzinfo | None = None) -> str:
        return self.kind.display_html(value, tz)

    def export(self, value: Any) -> str:
        """The CSV export cell, which the importer reads back to ``value``."""
        return self.kind.export(value)

    @property
    def operators(self) -> tuple[Operator, ...]:
        return self.kind.operators

    def q(self, op: str, values: tuple[Any, ...] = ()) -> Q:
        return self.kind.q(self, op, values)

    def ids_alone(self, op: str, values: tuple[Any, ...] = ()) -> QuerySet | None:
        return self.kind.ids_alone(self, op, values)

    def sort(self, *, descending: bool) -> Any:
        return self.kind.sort(self, descending=descending)

    def formfield(self) -> forms.Field:
        return self.kind.formfield(self)

    def editor_formfield(self, tz: zoneinfo.ZoneInfo) -> forms.Field:
        return self.kind.editor_formfield(self, tz)


def column_max_length(key: str) -> int | None:
    try:
        return getattr(Contact._meta.get_field(key), "max_length", None)
    except FieldDoesNotExist:
        return None


def _builtin(key: str, label: str, kind: Kind | str = DEFAULT_TYPE, **options: Any) -> Field:
    kind = kind_for(kind) if isinstance(kind, str) else kind
    return Field(key, label, kind.name, True, kind=kind, **options)


BUILTIN_FIELDS: tuple[Field, ...] = (
    _builtin("name", "Name", aliases=("full name", "fullname", "first name")),
    _builtin(
        "phone",
        "Phone",
        PHONE,
        editable=False,
        aliases=("phone number", "phonenumber", "mobile", "mobile number", "whatsapp number"),
        help_text="E.164; set when the contact is created and never edited.",
    ),
    _builtin(
        "country_code",
        "Country code",
        editable=False,
        aliases=("countrycode", "country calling code", "dial code"),
    ),
    _builtin(
        "email",
        "Email",
        EMAIL,
        aliases=("email address", "emailaddress", "email id", "e-mail", "mail"),
    ),
    _builtin("user_id", "User id", aliases=("userid", "external id"), empty=None),
    _builtin(
        "whatsapp_opted",
        "WhatsApp opted",
        "boolean",
        aliases=("whatsappopted", "whatsapp opt in", "whatsapp optin", "opted in"),
        empty=False,
    ),
    _builtin(
        "opted_at",
        "Opted in at",
        "datetime",
        editable=False,
        aliases=("optedat", "opt in at", "opted in time"),
        help_text="When WhatsApp opted was last set or cleared.",
    ),
    _builtin(
        "opt_in_source",
        "Opt-in source",
        editable=False,
        aliases=("optinsource", "opt in source", "opted in by"),
        help_text="Who last set or cleared WhatsApp opted: a user, an upload or an API key.",
    ),
    _builtin(
        "created_at",
        "Created",
        "datetime",
        editable=False,
        aliases=("created", "createdat", "created time"),
    ),
    _builtin(
        "updated_at",
        "Updated",
        "datetime",
        editable=False,
        aliases=("updated", "modified", "updatedat", "modified time"),
    ),
    _builtin(TAGS, "Tags", TAGS, sortable=False),
)
BUILTIN_BY_KEY = {f.key: f for f in BUILTIN_FIELDS}


def normalize_name(name: str) -> str:
    """Compare names ignoring case, spaces, underscores and hyphens: "Full_Name" == "full name"."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def attribute_field(attribute: Attribute | _AttributeRow) -> Field:
    return Field(
        key=attribute.key,
        label=attribute.label,
        type=attribute.type,
        builtin=False,
        attribute_id=attribute.pk,
        indexed=attribute.indexed,
        hidden=attribute.hidden,
        changing=attribute.changing,
    )


class FieldRegistry:
    """Every field, built-in first, then custom attributes by label. One query to build."""

    def __init__(self, attributes: Iterable[Attribute | _AttributeRow]) -> None:
        self.fields: list[Field] = [*BUILTIN_FIELDS, *(attribute_field(a) for a in attributes)]
        self.by_key: dict[str, Field] = {f.key: f for f in self.fields}
        self._by_name: dict[str, Field] = {}
        for f in reversed(self.fields):  # built-ins win over attributes with a clashing name
            for name in (f.key, f.label, *f.aliases):
                self._by_name[normalize_name(name)] = f

    def __iter__(self):
        return iter(self.fields)

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def get(self, key: str) -> Field | None:
        return self.by_key.get(key)

    def __getitem__(self, key: str) -> Field:
        return self.by_key[key]

    def resolve(self, name: str) -> Field | None:
        """The field that a CSV header or API trait name means, if any."""
        return self.by_key.get(name) or self._by_name.get(normalize_name(name))

    @cached_property
    def fingerprint(self) -> str:
        """Names this set of fields (keys, labels, kinds, hidden), for caching what is drawn
        from them alone, such as the list's "Add filter" row."""
        described = repr([(f.key, f.label, type(f.kind).__name__, f.hidden) for f in self.fields])
        return hashlib.sha256(described.encode()).hexdigest()[:16]

    @property
    def custom(self) -> list[Field]:
        return [f for f in self.fields if not f.builtin]

    @property
    def pickable(self) -> list[Field]:
        """The fields the column and filter pickers and CSV mapping offer (not hidden)."""
        return [f for f in self.fields if not f.hidden]

    @property
    def editable(self) -> list[Field]:
        return [f for f in self.fields if f.editable and not f.kind.own_editor]


class _AttributeRow(NamedTuple):
    """The columns of an attribute the registry reads (``attribute_field`` takes either)."""

    pk: int
    key: str
    label: str
    type: str
    indexed: bool
    hidden: bool
    changing: bool


_last_registry: tuple[tuple[_AttributeRow, ...], FieldRegistry] | None = None


def field_registry() -> FieldRegistry:
    """Every field as stored now: one query, always (another process may have changed a
    field a moment ago). The registry built from the rows is kept for the process and
    reused while the rows read are the same ones, since building it (every name of every
    field normalised) costs more CPU than the query. Registries and fields are immutable."""
    global _last_registry
    rows = tuple(
        _AttributeRow(*values)
        for values in Attribute.objects.order_by("label", "id").values_list(*_AttributeRow._fields)
    )
    last = _last_registry
    if last is not None and last[0] == rows:
        return last[1]
    registry = FieldRegistry(rows)
    _last_registry = (rows, registry)
    return registry


def attribute_key_for(label: str) -> str:
    """A stable key for a new attribute's label: "Pin code" -> "pin_code"."""
    key = re.sub(r"[^0-9a-zA-Z]+", "_", label.strip()).strip("_").lower()
    if not key:
        key = "field"
    if key[0].isdigit():
        key = f"f_{key}"
    if key in BUILTIN_BY_KEY:
        key = f"{key}_custom"
    return key[:100]
