"""The contact list's django-tables2 table: its cells, sort links, pager and page sizes."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse

from contacts.fields import field_registry
from contacts.models import FieldType, ListPreference
from contacts.pagination import ContactPaginator
from contacts.selectors import columns_from_keys, contact_list_for, parse_list_query
from contacts.tables import contact_table
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


def _table(params: str, keys: tuple[str, ...]):
    registry = field_registry()
    query = parse_list_query(QueryDict(params), registry)
    table = contact_table(
        columns_from_keys(keys, registry), contact_list_for(query, registry), query
    )
    table.paginate(ContactPaginator, per_page=query.per_page, query=query)
    return table


def test_page_rows_render_the_same_cells_as_django_tables2_rows():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="Asha", email="a@example.com", city="Pune", tags=["VIP", "Lead"])
    make_contact(name="", city="Mumbai")
    table = _table("", ("name", "phone", "city", "tags", "whatsapp_opted", "created_at"))
    fast = [[cell for _, cell in cells] for _, cells in table.page_rows()]
    library = [[cell for _, cell in row.items()] for row in table.page.object_list]
    assert fast == library
    assert len(fast) == 2 and "(no name)" in fast[0][1]  # newest first: the nameless one
    attrs = [attrs for attrs, _ in next(table.page_rows())[1]]
    assert attrs[0] == 'class="select-col"' and attrs[1] == 'data-field="name"'


def test_row_html_escapes_every_value_and_carries_the_cells_edit_urls():
    asha = make_contact(name='<b>"Asha" & co</b>', email="a@example.com")
    registry = field_registry()
    query = parse_list_query(QueryDict(""), registry)
    columns = columns_from_keys(("name", "email"), registry)
    table = contact_table(columns, contact_list_for(query, registry), query, can_edit=True)
    table.paginate(ContactPaginator, per_page=query.per_page, query=query)
    (row,) = table.page_rows_html()
    cells = [cell for _, cell in next(table.page_rows())[1]]
    assert row == "".join(f"<td {a}>{c}</td>" for a, c in next(table.page_rows())[1])
    name = "&lt;b&gt;&quot;Asha&quot; &amp; co&lt;/b&gt;"
    assert "<b>" not in row and row.count(name) == 4  # checkbox label, link, two pencils
    assert f'<a href="/contacts/{asha.pk}/">{name}</a>' in cells[1]
    edit = f"/contacts/{asha.pk}/fields/email/edit/?in=list"
    assert f'data-edit="{edit}" aria-label="Edit Email of {name}"' in cells[2]
    assert f'data-edit="/contacts/{asha.pk}/fields/name/edit/?in=list&amp;link=1"' in cells[1]


def test_sort_links_come_from_the_columns_and_start_at_the_first_page(viewer_client):
    for i in range(30):
        make_contact(name=f"C{i}")
    html = viewer_client.get(LIST, {"sort": "-name", "page": "2", "per_page": "25"}).content
    html = html.decode()
    assert f'href="{LIST}?sort=name&amp;per_page=25"' in html  # toggled, page dropped
    assert f'href="{LIST}?sort=email&amp;per_page=25"' in html
    assert 'data-field="tags" scope="col">\n            Tags' in html  # tags are not sortable


def test_sort_by_a_hidden_column_still_sorts(viewer_client, viewer):
    ListPreference.objects.create(user=viewer, columns=["phone"])
    make_contact(name="Bala", phone_number="9000000001")
    make_contact(name="Asha", phone_number="9000000002")
    html = viewer_client.get(LIST, {"sort": "name"}).content.decode()
    assert html.index("+919000000002") < html.index("+919000000001")


def test_sort_links_ignore_the_add_filter_inputs_of_the_request(viewer_client):
    make_contact(name="Asha")
    html = viewer_client.get(
        LIST,
        {"nf_field": "name", "nf_op": "contains", "nf_value": "a"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/",
    ).content.decode()
    assert "1 matching" in html
    assert "nf_" not in html.split("<table", 1)[1]


@pytest.mark.parametrize("per_page", ["7", "1000", "x"])
def test_page_size_outside_the_choices_is_the_default(viewer_client, per_page):
    for i in range(55):
        make_contact(name=f"P{i:02d}")
    html = viewer_client.get(LIST, {"per_page": per_page}).content.decode()
    assert html.count('name="ids"') == 50
    assert "Page 1 of 2" in html


def test_page_past_the_end_says_so_and_links_to_the_first_page(viewer_client):
    make_contact(name="Asha")
    html = viewer_client.get(LIST, {"page": "9", "q": "asha"}).content.decode()
    assert "This page is past the end of the list." in html
    assert f'href="{LIST}?q=asha">Go to the first page' in html
    assert "1 matching" in html  # counted separately: the window had no row to ride on
