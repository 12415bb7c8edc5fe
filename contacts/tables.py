"""The contact list's table: one django-tables2 column per field the user chose.

The rows are already one sorted page (see ``contacts.selectors.contact_page``), so the table
neither sorts nor paginates; the template draws sort links from ``ListQuery``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from contacts.csv_cells import csv_lines
from contacts.fields import Field
from contacts.models import Contact

# The contact page's URL is reversed once per column, not once per row.
_URL_PLACEHOLDER = 987654321


class FieldColumn(tables.Column):
    """A column showing one registry field, built-in or custom, as people read it."""

    def __init__(self, field: Field, *, link: bool = False) -> None:
        self.field = field
        self.link_to_contact = link
        self.url_template = reverse("contacts:detail", args=[_URL_PLACEHOLDER]) if link else ""
        super().__init__(
            verbose_name=field.label,
            accessor=tables.A("pk"),
            orderable=False,
            empty_values=(),
            attrs={"td": {"data-field": field.key}, "th": {"data-field": field.key}},
        )

    def render(self, record: Contact) -> Any:
        # In the viewer's zone, activated for the request (contacts.middleware).
        content = self.field.display_html(self.field.get(record))
        if self.link_to_contact:
            url = self.url_template.replace(str(_URL_PLACEHOLDER), str(record.pk))
            return format_html('<a href="{}">{}</a>', url, content or "(no name)")
        return content


class ContactTable(tables.Table):
    class Meta:
        orderable = False
        attrs = {"class": "table table-hover table-sm align-middle contact-table mb-0"}
        template_name = "django_tables2/bootstrap5.html"

    def cell_rows(self) -> list[tuple[Contact, list[Any]]]:
        """Each record with its rendered cells, calling the columns' ``render`` directly.

        django-tables2's ``BoundRow`` inspects each render method's signature for every
        cell; at 50 rows x 8 columns that alone cost more than the page's SQL.
        """
        columns = [bound.column for bound in self.columns]
        return [(record, [c.render(record) for c in columns]) for record in self.data.data]


def contact_table(columns: Sequence[Field], rows: Sequence[Contact]) -> ContactTable:
    """A table of ``rows`` with ``columns``; the first column links to the contact page."""
    extra = [(f.key, FieldColumn(f, link=(i == 0))) for i, f in enumerate(columns)]
    return ContactTable(rows, extra_columns=extra)


# --- CSV export ------------------------------------------------------------------------------
def export_columns(columns: Sequence[Field], registry: Any) -> list[Field]:
    """The visible columns, with Phone and User id first when hidden: the importer's keys."""
    keys = [f.key for f in columns]
    leading = [registry[k] for k in ("phone", "user_id") if k not in keys]
    return [*leading, *columns]


def export_csv_lines(contacts: Iterable[Contact], columns: Sequence[Field]) -> Iterator[str]:
    """CSV text, a line at a time (a header, then one line per contact)."""
    header = [f.label for f in columns]
    rows = ([f.export(f.get(contact)) for f in columns] for contact in contacts)
    return csv_lines(itertools.chain([header], rows))
