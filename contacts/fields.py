"""The field registry: one description of every field a contact has.

Built-in fields (columns of ``Contact``) and custom attributes (``Attribute`` rows, values
in ``Contact.traits``) are described by the same :class:`Field`, so that the list's columns
and filters, the pencil editor, CSV mapping and the API treat them alike. Adding a field type
means adding it to ``FieldType`` and ``contacts.coercion``; nothing else branches on
built-in versus custom except :meth:`Field.get` and :attr:`Field.lookup`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist

from contacts import coercion
from contacts.coercion import CoercionError
from contacts.models import Attribute, Contact, FieldType

TAGS = "tags"


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
    help_text: str = ""
    # What a built-in column stores when cleared (custom traits are removed instead).
    empty: Any = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def lookup(self) -> str:
        """The ORM path of the value: a column, or a key inside ``traits``."""
        return self.key if self.builtin else f"traits__{self.key}"

    def get(self, contact: Contact) -> Any:
        if self.key == TAGS:
            return [tag.name for tag in contact.tags.all()]
        if self.builtin:
            return getattr(contact, self.key)
        return contact.traits.get(self.key)

    def coerce(self, value: Any, *, list_separator: str = coercion.DEFAULT_LIST_SEPARATOR) -> Any:
        """The stored form of ``value``, or :class:`CoercionError` naming this field."""
        if self.type == TAGS:
            return coercion.coerce_list(value, field=self.label, separator=list_separator)
        result = coercion.coerce(self.type, value, field=self.label, list_separator=list_separator)
        if self.key == "email" and result and not coercion.is_valid_email(result):
            raise CoercionError(self.label, value, "not a valid email address")
        if self.builtin and result is None:
            return self.empty
        if self.builtin and isinstance(result, str):
            # The column's limit, checked here so that PostgreSQL never sees an overlong value.
            max_length = _column_max_length(self.key)
            if max_length is not None and len(result) > max_length:
                raise CoercionError(self.label, value, f"longer than {max_length} characters")
        return result

    def display(self, value: Any) -> str:
        if self.type == TAGS:
            return ", ".join(value or [])
        return coercion.display(self.type, value)


def _column_max_length(key: str) -> int | None:
    try:
        return getattr(Contact._meta.get_field(key), "max_length", None)
    except FieldDoesNotExist:
        return None


BUILTIN_FIELDS: tuple[Field, ...] = (
    Field("name", "Name", FieldType.TEXT, True, aliases=("full name", "fullname", "first name")),
    Field(
        "phone",
        "Phone",
        FieldType.TEXT,
        True,
        editable=False,
        aliases=("phone number", "phonenumber", "mobile", "mobile number", "whatsapp number"),
        help_text="E.164; set when the contact is created and never edited.",
    ),
    Field(
        "country_code",
        "Country code",
        FieldType.TEXT,
        True,
        editable=False,
        aliases=("countrycode", "country calling code", "dial code"),
    ),
    Field(
        "email",
        "Email",
        FieldType.TEXT,
        True,
        aliases=("email address", "emailaddress", "email id", "e-mail", "mail"),
    ),
    Field(
        "user_id", "User id", FieldType.TEXT, True, aliases=("userid", "external id"), empty=None
    ),
    Field(
        "whatsapp_opted",
        "WhatsApp opted",
        FieldType.BOOLEAN,
        True,
        aliases=("whatsappopted", "whatsapp opt in", "whatsapp optin", "opted in"),
        empty=False,
    ),
    Field(
        "created_at",
        "Created",
        FieldType.DATETIME,
        True,
        editable=False,
        aliases=("created", "createdat", "created time"),
    ),
    Field(
        "updated_at",
        "Updated",
        FieldType.DATETIME,
        True,
        editable=False,
        aliases=("updated", "modified", "updatedat", "modified time"),
    ),
    Field(TAGS, "Tags", TAGS, True, sortable=False),
)
BUILTIN_BY_KEY = {f.key: f for f in BUILTIN_FIELDS}


def normalize_name(name: str) -> str:
    """Compare names ignoring case, spaces, underscores and hyphens: "Full_Name" == "full name"."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def attribute_field(attribute: Attribute) -> Field:
    return Field(
        key=attribute.key,
        label=attribute.label,
        type=attribute.type,
        builtin=False,
        attribute_id=attribute.pk,
    )


class FieldRegistry:
    """Every field, built-in first, then custom attributes by label. One query to build."""

    def __init__(self, attributes: Iterable[Attribute]) -> None:
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

    @property
    def custom(self) -> list[Field]:
        return [f for f in self.fields if not f.builtin]

    @property
    def editable(self) -> list[Field]:
        return [f for f in self.fields if f.editable and f.key != TAGS]


def field_registry() -> FieldRegistry:
    return FieldRegistry(Attribute.objects.order_by("label", "id"))


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
