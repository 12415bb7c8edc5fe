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
from datetime import tzinfo
from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.rows import BoundRow

from contacts.csv_cells import csv_lines
from contacts.field_editor import editable
from contacts.fields import Field
from contacts.kinds.base import escape_text
from contacts.models import Contact
from contacts.selectors import ListQuery, sort_contacts

# The contact page's URL is reversed once per column, not once per row.
_URL_PLACEHOLDER = "987654321"


def cell_edit_url(contact_pk: int, field: Field, *, link: bool) -> str:
    """The pencil editor's URL for one list cell: the contact page's, answering in cells."""
    url = reverse("contacts:field-edit", args=[contact_pk, field.key])
    return f"{url}?{CELL_PARAMS[link]}"


# ``in=list`` makes the contact page's editor answer with a table cell; ``link`` says the
# cell is the first column, whose value links to the contact.
CELL_PARAMS = {False: "in=list", True: "in=list&link=1"}


def _around_pk(url: str) -> tuple[str, str]:
    """``url`` (reversed for the placeholder id), escaped once, split where the id goes."""
    head, _, tail = str(escape(url)).partition(_URL_PLACEHOLDER)
    return head, tail


class FieldColumn(tables.Column):
    """A column showing one registry field, built-in or custom, as people read it.

    With ``can_edit`` (and a field the pencil editor may change) each cell carries a pencil
    that opens the contact page's editor in place (``static/js/contact-list.js``); the icon
    itself is drawn by the stylesheet, not repeated in every cell.
    """

    def __init__(self, field: Field, *, link: bool = False, can_edit: bool = False) -> None:
        self.field = field
        self.url = _around_pk(reverse("contacts:detail", args=[_URL_PLACEHOLDER])) if link else None
        self.edit_url = (
            _around_pk(cell_edit_url(int(_URL_PLACEHOLDER), field, link=link))
            if can_edit and editable(field)
            else None
        )
        self.edit_label = escape(field.label)
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

    def render(self, record: Contact) -> SafeString:
        zone = timezone.get_current_timezone()
        return self.cell(record, str(record.pk), escape_text(str(record)), zone)

    def cell(self, record: Contact, pk: str, name: str, zone: tzinfo) -> SafeString:
        """``render`` with the row's id and escaped name and the viewer's zone given, as a
        page's cells share them.

        Strings are joined rather than formatted with ``format_html``: every part is escaped
        here or once per column, and this runs for every cell of the page (docs/performance.md).
        """
        content = self.field.display_html(self.field.get(record), zone)
        if self.url is not None:
            content = f'<a href="{self.url[0]}{pk}{self.url[1]}">{content or "(no name)"}</a>'
        if self.edit_url is None:
            return mark_safe(content)
        edit = f"{self.edit_url[0]}{pk}{self.edit_url[1]}"
        return mark_safe(
            f'<span class="cell-value">{content}</span><button type="button" class="cell-edit"'
            f' data-edit="{edit}" aria-label="Edit {self.edit_label} of {name}" tabindex="-1">'
            "</button>"
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
        # The viewer's zone, activated for the request (contacts.middleware).
        zone = timezone.get_current_timezone()
        for row in self.paginated_rows:
            record = row.record
            pk, name = str(record.pk), escape_text(str(record))
            yield row, [(attrs, column.cell(record, pk, name, zone)) for column, attrs in columns]

    def page_rows_html(self) -> Iterator[SafeString]:
        """Each row's cells as one string of ``<td>`` elements, for the table's template:
        one template variable per row rather than a template loop over its cells."""
        for _row, cells in self.page_rows():
            yield mark_safe("".join([f"<td {attrs}>{cell}</td>" for attrs, cell in cells]))


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

    def render(self, record: Contact) -> SafeString:
        return self.cell(record, str(record.pk), escape_text(str(record)), timezone.UTC)

    def cell(self, record: Contact, pk: str, name: str, zone: tzinfo) -> SafeString:
        return mark_safe(
            f'<input type="checkbox" class="form-check-input" name="ids" value="{pk}"'
            f' aria-label="Select {name}">'
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
