"""The contact list's table: a selection checkbox, then one column per field the user chose.

django-tables2 owns the table: the header with its sort links (``?sort=name``,
``?sort=-created_at``), the rows, the pager (``contacts.pagination.ContactPaginator``) and
the markup (``templates/contacts/table.html``). Sorting goes through each column's ``order``
hook to the selector's ``sort_contacts``, so the table sorts exactly as ``contact_list``.
Links are built from the list's canonical state (``ListQuery``), never from raw request
parameters.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_tables2.rows import BoundRow

from contacts.csv_cells import csv_lines
from contacts.field_editor import editable
from contacts.fields import Field
from contacts.models import Contact
from contacts.selectors import ListQuery, sort_contacts

# The contact page's URL is reversed once per column, not once per row.
_URL_PLACEHOLDER = 987654321
# The heroicons "pencil" outline, written out once rather than rendered for every cell.
PENCIL_ICON = mark_safe(
    '<svg fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor"'
    ' aria-hidden="true" width="14" height="14"><path stroke-linecap="round"'
    ' stroke-linejoin="round" d="m16.862 4.487 1.687-1.688a1.875 1.875 0 1 1 2.652 2.652L6.832'
    " 19.82a4.5 4.5 0 0 1-1.897 1.13l-2.685.8.8-2.685a4.5 4.5 0 0 1 1.13-1.897L16.863"
    ' 4.487Zm0 0L19.5 7.125"/></svg>'
)


def cell_edit_url(contact_pk: int, field: Field, *, link: bool) -> str:
    """The pencil editor's URL for one list cell: the contact page's, answering in cells."""
    url = reverse("contacts:field-edit", args=[contact_pk, field.key])
    return f"{url}?{CELL_PARAMS[link]}"


# ``in=list`` makes the contact page's editor answer with a table cell; ``link`` says the
# cell is the first column, whose value links to the contact.
CELL_PARAMS = {False: "in=list", True: "in=list&link=1"}


class FieldColumn(tables.Column):
    """A column showing one registry field, built-in or custom, as people read it.

    With ``can_edit`` (and a field the pencil editor may change) each cell carries a pencil
    that opens the contact page's editor in place (``static/js/contact-list.js``).
    """

    def __init__(self, field: Field, *, link: bool = False, can_edit: bool = False) -> None:
        self.field = field
        self.link_to_contact = link
        self.url_template = reverse("contacts:detail", args=[_URL_PLACEHOLDER]) if link else ""
        self.edit_url_template = (
            cell_edit_url(_URL_PLACEHOLDER, field, link=link)
            if can_edit and editable(field)
            else ""
        )
        super().__init__(
            verbose_name=field.label,
            accessor=tables.A("pk"),
            orderable=field.sortable,
            empty_values=(),
            attrs={"td": {"data-field": field.key}, "th": {"data-field": field.key}},
        )

    def order(
        self, queryset: QuerySet[Contact], is_descending: bool
    ) -> tuple[QuerySet[Contact], bool]:
        return sort_contacts(queryset, self.field, descending=is_descending), True

    def render(self, record: Contact) -> Any:
        # In the viewer's zone, activated for the request (contacts.middleware).
        content = self.field.display_html(self.field.get(record))
        pk = str(record.pk)
        if self.link_to_contact:
            url = self.url_template.replace(str(_URL_PLACEHOLDER), pk)
            content = format_html('<a href="{}">{}</a>', url, content or "(no name)")
        if not self.edit_url_template:
            return content
        return format_html(
            '<span class="cell-value">{}</span><button type="button" class="cell-edit"'
            ' data-edit="{}" aria-label="Edit {} of {}" tabindex="-1">{}</button>',
            content,
            self.edit_url_template.replace(str(_URL_PLACEHOLDER), pk),
            self.field.label,
            record,
            PENCIL_ICON,
        )


class ContactTable(tables.Table):
    class Meta:
        attrs = {
            "class": "table table-hover table-sm align-middle contact-table mb-0",
            "thead": {"class": "table-light"},
        }
        template_name = "contacts/table.html"
        order_by_field = "sort"
        page_field = "page"
        per_page_field = "per_page"

    def __init__(self, data: QuerySet[Contact], *, list_query: ListQuery, **kwargs: Any) -> None:
        super().__init__(data, order_by=list_query.sort, **kwargs)
        self.list_query = list_query

    def page_rows(self) -> Iterator[tuple[BoundRow, list[tuple[str, Any]]]]:
        """The current page's rows, each with its cells as (``<td>`` attributes, content).

        The same cells as ``BoundRow.items()``, without its per-cell work: inspecting the
        render method's signature, resolving the accessor and recomputing the column's
        attributes, for every cell. At 50 rows x 7 columns that tripled the page's time
        (docs/performance.md). Every column here renders from the record alone, and their
        ``<td>`` attributes do not depend on the row, so they are computed once.
        """
        columns = [(bound.column, bound.attrs["td"].as_html()) for bound in self.columns]
        for row in self.paginated_rows:
            record = row.record
            yield row, [(attrs, column.render(record=record)) for column, attrs in columns]


def cell_html(field: Field, contact: Contact, *, link: bool, can_edit: bool) -> Any:
    """One cell's content exactly as the list draws it (after a save or a cancel)."""
    return FieldColumn(field, link=link, can_edit=can_edit).render(record=contact)


class SelectColumn(tables.Column):
    """The row checkboxes (``ids``) that bulk actions read; the header box selects the page."""

    def __init__(self) -> None:
        super().__init__(
            verbose_name=mark_safe(
                '<input type="checkbox" class="form-check-input" data-select-page'
                ' aria-label="Select all contacts on this page">'
            ),
            orderable=False,
            empty_values=(),
            attrs={"th": {"class": "select-col"}, "td": {"class": "select-col"}},
        )

    def render(self, record: Contact) -> str:
        return format_html(
            '<input type="checkbox" class="form-check-input" name="ids" value="{}"'
            ' aria-label="Select {}">',
            record.pk,
            record,
        )


# Not a possible field key (keys are slugs), so no custom field can replace this column.
SELECT_COLUMN = "#select"


def contact_table(
    columns: Sequence[Field],
    contacts: QuerySet[Contact],
    query: ListQuery,
    *,
    can_edit: bool = False,
) -> ContactTable:
    """A table of ``contacts`` with ``columns``; the first column links to the contact page.

    ``can_edit`` gives the editable cells their pencil (the editor refuses viewers anyway).
    """
    extra = [
        (SELECT_COLUMN, SelectColumn()),
        *((f.key, FieldColumn(f, link=(i == 0), can_edit=can_edit)) for i, f in enumerate(columns)),
    ]
    return ContactTable(contacts, list_query=query, extra_columns=extra)


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


# --- Settings > Fields -----------------------------------------------------------------------
class FieldsTable(tables.Table):
    """Settings > Fields: every field (``contacts.selectors.fields.FieldRow``), built-in first.

    A custom field's label links to its settings; built-ins are described, not changed.
    """

    label = tables.Column(accessor="field__label", verbose_name="Field")
    key = tables.Column(accessor="field__key", verbose_name="Key")
    kind = tables.Column(accessor="field__kind__name", verbose_name="Kind")
    values = tables.Column(
        verbose_name="Contacts with a value",
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}},
    )
    indexed = tables.BooleanColumn(yesno="Yes,No", verbose_name="Indexed")
    pickers = tables.Column(accessor="field__hidden", verbose_name="In pickers")

    class Meta:
        orderable = False
        template_name = "django_tables2/bootstrap5.html"
        attrs = {"class": "table table-sm table-hover align-middle", "aria-label": "Fields"}
        row_attrs = {"data-field": lambda record: record.field.key}

    def render_label(self, record: Any) -> str:
        f = record.field
        if f.builtin:
            return format_html('{} <span class="badge text-bg-light">built-in</span>', f.label)
        url = reverse("contacts:field-settings", args=[f.attribute_id])
        return format_html('<a href="{}" data-testid="field-link">{}</a>', url, f.label)

    def render_key(self, value: str) -> str:
        return format_html("<code>{}</code>", value)

    def render_kind(self, record: Any) -> str:
        change = record.change
        label = record.field.kind.label
        if change is None:
            return label
        return format_html(
            '{} <span class="badge text-bg-primary">{}…</span>',
            label,
            change.get_operation_display(),
        )

    def render_values(self, value: int) -> str:
        return f"{value:,}"

    def render_pickers(self, value: bool) -> str:
        return "Hidden" if value else "Shown"
