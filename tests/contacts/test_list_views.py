"""The contact list page: full page and htmx fragments, columns, saved views, query counts."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from contacts.models import Activity, FieldType, ListPreference, SavedView
from tests.factories import AttributeFactory, UserFactory, make_contact

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def test_list_shows_default_columns_count_and_links_names(viewer_client):
    asha = make_contact(name="Asha", phone_number="9876543210", email="a@example.com", tags=["VIP"])
    response = viewer_client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 contact" in html
    for label in ("Name", "Phone", "Email", "Tags", "WhatsApp opted", "Created"):
        assert f">{label}" in html
    assert f'href="{reverse("contacts:detail", args=[asha.pk])}">Asha</a>' in html
    assert "+919876543210" in html
    assert "VIP" in html


def test_empty_list_says_so(viewer_client):
    html = viewer_client.get(LIST).content.decode()
    assert "No contacts yet." in html
    assert "0 contacts" in html


def test_no_match_says_so_with_matching_count(viewer_client):
    make_contact(name="Asha")
    html = viewer_client.get(LIST, {"q": "zzz"}).content.decode()
    assert "No contacts match." in html
    assert "0 matching" in html


def test_htmx_request_gets_the_results_fragment_and_pushes_the_url(viewer_client):
    make_contact(name="Asha")
    make_contact(name="Bala")
    response = viewer_client.get(LIST, {"q": "bal", "sort": "name"}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="results"' in html
    assert "Bala" in html and "Asha" not in html
    assert "1 matching" in html
    assert response["HX-Push-Url"] == f"{LIST}?q=bal&sort=name"


def test_same_state_replaces_instead_of_pushing(viewer_client):
    response = viewer_client.get(
        LIST, {"q": "x"}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/?q=x"
    )
    assert response["HX-Replace-Url"] == f"{LIST}?q=x"
    assert "HX-Push-Url" not in response


@pytest.mark.parametrize(
    "typed", ["+91 98765 43210", "098765-43210", "9876543210", "(987) 654-3210", "65432"]
)
def test_search_finds_phone_in_any_common_format(viewer_client, typed):
    make_contact(name="Asha", phone_number="9876543210")
    make_contact(name="Bala", phone_number="9123456780")
    html = viewer_client.get(LIST, {"q": typed}, **HTMX).content.decode()
    assert "Asha" in html and "Bala" not in html


@pytest.mark.parametrize("typed", ["asha@ex", "crm-1", "SHA"])
def test_search_matches_email_user_id_and_name(viewer_client, typed):
    make_contact(name="Asha", email="asha@example.com", user_id="crm-1")
    make_contact(name="Bala", phone_number="9123456780")
    html = viewer_client.get(LIST, {"q": typed}, **HTMX).content.decode()
    assert "Asha" in html and "Bala" not in html


def test_adding_a_filter_folds_it_into_the_url(viewer_client):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="Low", score=3)
    make_contact(name="High", score=30)
    params = {"nf_field": "score", "nf_op": "gt", "nf_value": "10"}
    response = viewer_client.get(LIST, params, **HTMX)
    html = response.content.decode()
    assert response["HX-Push-Url"] == f"{LIST}?f=score%3Agt%3A10"
    assert "High" in html and "Low" not in html
    assert "Score &gt; 10" in html  # the chip
    full = viewer_client.get(LIST, params)
    assert full.status_code == 302 and full["Location"] == f"{LIST}?f=score%3Agt%3A10"


def test_bad_filter_value_shows_a_message_and_is_not_applied(viewer_client):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="Low", score=3)
    response = viewer_client.get(
        LIST, {"nf_field": "score", "nf_op": "gt", "nf_value": "1O"}, **HTMX
    )
    html = response.content.decode()
    assert "Score: expected a number (got &quot;1O&quot;)" in html
    assert "Low" in html
    assert response["HX-Replace-Url"] == LIST  # nothing changed: no new history entry
    html = viewer_client.get(LIST, {"f": "score:gt:abc"}).content.decode()
    assert "Score: expected a number" in html and "Low" in html


def test_chip_remove_link_drops_only_that_filter(viewer_client):
    make_contact(name="Asha")
    html = viewer_client.get(
        LIST, {"f": ["name:contains:a", "email:unset"], "q": "as"}
    ).content.decode()
    assert 'aria-label="Remove filter: Name contains a"' in html
    assert f"{LIST}?q=as&amp;f=email%3Aunset" in html


def test_upload_parameter_filters_to_that_upload_and_shows_a_chip(viewer_client):
    mine = make_contact(name="From upload")
    make_contact(name="Typed in")
    Activity.objects.create(contact=mine, kind="updated", source="upload", upload_job_id=7)
    html = viewer_client.get(LIST, {"upload": "7"}).content.decode()
    assert "From upload #7" in html
    assert "From upload</a>" in html and "Typed in" not in html
    assert "1 matching" in html


def test_sort_links_toggle_direction_and_mark_the_column(viewer_client):
    make_contact(name="Bala")
    make_contact(name="Asha")
    html = viewer_client.get(LIST, {"sort": "name"}).content.decode()
    assert html.index("Asha") < html.index("Bala")
    assert 'aria-sort="ascending"' in html
    assert f"{LIST}?sort=-name" in html
    html = viewer_client.get(LIST, {"sort": "-name"}).content.decode()
    assert html.index("Bala") < html.index("Asha")


def test_pages_carry_state_and_count_once(viewer_client):
    for i in range(30):
        make_contact(name=f"P{i:02d}")
    html = viewer_client.get(LIST, {"per_page": 25, "page": 2, "q": "p"}).content.decode()
    assert "26\u201330 of 30" in html  # en dash
    assert "Page 2 of 2" in html
    assert f"{LIST}?q=p&amp;per_page=25" in html  # previous page link keeps the state


def test_columns_preference_is_saved_in_order_and_used(editor_client, editor):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="Asha", city="Pune")
    response = editor_client.post(
        reverse("contacts:list-columns"), {"columns": ["city", "name", "nosuch"]}, **HTMX
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {"list-changed": {}}  # django-htmx writes JSON
    assert ListPreference.objects.get(user=editor).columns == ["city", "name"]
    html = editor_client.get(LIST).content.decode()
    assert html.index('data-field="city"') < html.index('data-field="name"')
    assert 'data-field="email"' not in html
    assert "Pune" in html


def test_columns_panel_lists_the_shown_columns_ticked_first_then_the_others(editor_client, editor):
    AttributeFactory(key="city", label="City", type=FieldType.NUMBER)
    ListPreference.objects.create(user=editor, columns=["city", "name"])
    listing = editor_client.get(LIST).content.decode()
    # The page holds the panel's frame only; the form is drawn when the panel opens.
    assert 'id="columns-panel"' in listing and 'id="columns-form"' not in listing
    opens = 'hx-get="/list/columns/" hx-trigger="show.bs.offcanvas from:#columns-panel once"'
    assert opens in listing
    response = editor_client.get(
        reverse("contacts:list-columns"), headers={"HX-Current-URL": "http://testserver/?q=a"}
    )
    panel = response.content.decode()
    assert response.status_code == 200 and "<html" not in panel
    assert '<input type="hidden" name="next" value="/?q=a"' in panel  # back to the same list
    rows = re.findall(r'<li [^>]*data-column="([^"]+)"', panel)
    assert rows[:3] == ["city", "name", "phone"] and "email" in rows
    assert 'value="city" class="form-check-input m-0" id="col-city" checked' in panel
    assert 'value="phone" class="form-check-input m-0" id="col-phone">' in panel
    assert 'for="col-city">City <span class="small text-body-secondary">(number)</span>' in panel
    assert 'id="columns-form"' in panel and 'hx-post="/list/columns/"' in panel


def test_saved_view_save_share_and_open(editor_client, editor):
    other = UserFactory(username="other", groups=["Editors"])
    ListPreference.objects.create(user=editor, columns=["name", "email"])
    response = editor_client.post(
        reverse("contacts:list-view-save"),
        {"name": " VIPs  in Pune ", "shared": "on", "q": "a", "f": ["tags:any:VIP"]},
        **HTMX,
    )
    view = SavedView.objects.get()
    assert response.status_code == 200  # django-htmx HttpResponseClientRedirect
    assert view.name == "VIPs in Pune" and view.shared and view.owner == editor
    assert view.query == {"q": "a", "f": ["tags:any:VIP"], "sort": "-created_at"}
    assert view.columns == ["name", "email"]
    assert response["HX-Redirect"] == f"{LIST}?q=a&f=tags%3Aany%3AVIP&view={view.pk}"

    from django.test import Client

    other_client = Client()
    other_client.force_login(other)
    assert "VIPs in Pune" in other_client.get(LIST).content.decode()
    opened = other_client.get(reverse("contacts:list-view-open", args=[view.pk]))
    assert opened["Location"] == f"{LIST}?q=a&f=tags%3Aany%3AVIP&view={view.pk}"
    assert ListPreference.objects.get(user=other).columns == ["name", "email"]
    # only the owner may delete it
    assert (
        other_client.post(reverse("contacts:list-view-delete", args=[view.pk])).status_code == 404
    )
    assert SavedView.objects.exists()


def test_private_saved_view_is_not_visible_to_others(editor_client, editor, viewer_client):
    view = SavedView.objects.create(name="Mine only", owner=editor, query={"q": "x"})
    assert "Mine only" not in viewer_client.get(LIST).content.decode()
    assert viewer_client.get(reverse("contacts:list-view-open", args=[view.pk])).status_code == 404
    assert "Mine only" in editor_client.get(LIST).content.decode()


def test_saving_a_view_needs_a_name(editor_client):
    editor_client.get(LIST)  # the blank form's fields, now cached
    response = editor_client.post(reverse("contacts:list-view-save"), {"name": "  "}, **HTMX)
    assert response.status_code == 422
    assert "Give the view a name." in response.content.decode() or "required" in (
        response.content.decode()
    )
    assert not SavedView.objects.exists()


def _many(count: int) -> None:
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    for i in range(count):
        make_contact(name=f"C{i}", city="Pune", tags=["VIP", f"T{i}"])


@pytest.mark.parametrize("params", [{}, {"q": "c"}, {"f": "city:eq:pune", "sort": "-city"}])
def test_query_count_per_page_is_constant(
    editor_client, editor, django_assert_max_num_queries, params
):
    # session, user, 2 x permissions, attributes, columns, saved views, page, tags prefetch,
    # running bulk actions, and the count: filtered, the matches' count (a search also reads
    # the search index); unfiltered, the total (on PostgreSQL: its estimate, then an exact
    # count)
    ListPreference.objects.create(user=editor, columns=["name", "city", "tags", "phone"])
    _many(3)
    with django_assert_max_num_queries(13):
        small = editor_client.get(LIST, params)
    _many(40)
    with django_assert_max_num_queries(13):
        large = editor_client.get(LIST, params)
    assert small.content.decode().count('name="ids"') == 3
    assert large.content.decode().count('name="ids"') == 43


def _contact_queries(client, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        html = client.get(LIST, params).content.decode()
    return html, [q["sql"] for q in captured.captured_queries if "contacts_contact" in q["sql"]]


def test_few_matches_are_counted_then_collected_for_the_page(editor_client):
    _many(5)
    html, queries = _contact_queries(editor_client, {"f": "city:eq:pune"})
    assert "5 matching" in html
    count, page = [q for q in queries if 'FROM "contacts_contact"' in q]
    assert "COUNT(*)" in count and "OVER ()" not in count
    # Few matches: collected and sorted, so no plan walks the sort index past them all.
    assert "OVER ()" in page


def test_many_matches_take_the_plain_limit_query(editor_client, monkeypatch):
    from django.db import connection

    from contacts.selectors import listing

    _many(7)
    monkeypatch.setattr(listing, "COLLECT_AT_MOST", 2)
    html, queries = _contact_queries(editor_client, {"f": "city:eq:pune", "per_page": 25})
    assert "7 matching" in html
    page = [q for q in queries if 'FROM "contacts_contact"' in q and "LIMIT" in q]
    assert len(page) == 1 and "OVER ()" not in page[0]
    # SQLite is told to walk the sort's index (its conditions wrapped in a unary plus).
    assert ("WHERE +(" in page[0]) == (connection.vendor == "sqlite")

    # Both ways give the same rows in the same order, page by page.
    def rows(page):
        params = {"f": "city:eq:pune", "sort": "name", "per_page": 25, "page": page}
        html = editor_client.get(LIST, params).content.decode()
        return re.findall(r'name="ids" value="(\d+)"', html)

    plain = rows(1)
    monkeypatch.setattr(listing, "WALK_AT_MOST", 0)
    assert rows(1) == plain  # SQLite: without the walk
    monkeypatch.setattr(listing, "COLLECT_AT_MOST", 100)
    assert rows(1) == plain and len(plain) == 7
    assert rows(2) == []  # past the end: an empty page, not an error


def test_a_lone_tag_condition_is_counted_from_the_tag_index(editor_client):
    make_contact(name="A", tags=["VIP", "Lead"])
    make_contact(name="B", tags=["VIP"])
    make_contact(name="C", tags=["Lead"])
    make_contact(name="D")
    for params, expected in [
        ({"f": "tags:any:VIP"}, "2 matching"),
        ({"f": "tags:any:VIP|Lead"}, "3 matching"),  # A once, though it has both
        ({"f": "tags:all:VIP|Lead"}, "1 matching"),
        ({"f": "tags:all:vip|VIP"}, "2 matching"),  # one tag, named twice
    ]:
        html, queries = _contact_queries(editor_client, params)
        assert expected in html, params
        counts = [q for q in queries if "COUNT(" in q and "OVER ()" not in q]
        assert counts and all('FROM "contacts_contact"' not in q for q in counts), counts
    # With a second condition the contacts themselves are counted.
    html, queries = _contact_queries(editor_client, {"f": ["tags:any:VIP", "name:eq:A"]})
    assert "1 matching" in html


def test_viewer_sees_no_edit_actions(viewer_client):
    make_contact(name="Asha")
    html = viewer_client.get(LIST).content.decode()
    assert "New contact" not in html
    assert "?action=tags_add" not in html and "?action=delete" not in html
    assert "?action=export" in html


def test_list_needs_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_large_unfiltered_total_is_an_estimate_on_postgresql(viewer_client, monkeypatch):
    from django.db import connection

    from contacts.selectors import listing

    make_contact(name="Asha")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact")
    monkeypatch.setattr(listing, "ESTIMATE_ABOVE", 1)
    html = viewer_client.get(LIST).content.decode()
    if connection.vendor == "postgresql":
        assert "about 1 contact" in html
    else:  # SQLite always counts exactly
        assert "about" not in html and "1 contact" in html
    assert "1 matching" in viewer_client.get(LIST, {"q": "asha"}).content.decode()


def test_owner_deletes_own_saved_view(editor_client, editor):
    view = SavedView.objects.create(name="Mine", owner=editor, query={})
    response = editor_client.post(reverse("contacts:list-view-delete", args=[view.pk]))
    assert response.status_code == 302 and response["Location"] == LIST
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"g0": "any", "f": ["city:eq:Pune", "tags:any:VIP"]},
        {"g0": "any", "f": ["tags:any:VIP", "tags:all:Lead|VIP", "name:eq:D"]},
        {"match": "any", "f": ["city:eq:Pune", "tags:any:Lead"], "g1.f": "tags:all:VIP|Lead"},
        {"match": "any", "f": "tags:none:VIP", "g1.f": "city:eq:Goa"},
        {"f": ["city:eq:Pune", "tags:any:VIP"]},
    ],
)
def test_counts_of_alternatives_equal_the_contacts_they_list(editor_client, params):
    from contacts.fields import field_registry
    from contacts.filtering import parse_filter_tree
    from contacts.models import Contact

    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="A", city="Pune", tags=["VIP", "Lead"])
    make_contact(name="B", city="Goa", tags=["VIP"])
    make_contact(name="C", tags=["Lead"])
    make_contact(name="D", city="Pune")
    make_contact(name="E")
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    tree, errors = parse_filter_tree(query, field_registry())
    assert not errors
    expected = Contact.objects.filter(tree.q()).count()
    html, _ = _contact_queries(editor_client, params)
    rows = re.findall(r'name="ids" value="(\d+)"', html)
    assert len(rows) == expected
    assert f"{expected} matching" in html


def test_the_add_filter_row_follows_field_changes_although_it_is_cached(viewer_client):
    def picker() -> str:
        html = viewer_client.get(LIST).content.decode()
        return html[html.index('name="nf_field"') : html.index("</select>", html.index("nf_field"))]

    assert ">City<" not in picker()
    city = AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    assert '<option value="city">City</option>' in picker()
    city.label = "Town"
    city.save()
    assert '<option value="city">Town</option>' in picker()
    city.hidden = True
    city.save()
    assert 'value="city"' not in picker()
    city.hidden, city.type = False, FieldType.NUMBER
    city.save()
    assert '<option value="city">Town</option>' in picker()
    assert picker() == picker()  # the second answer comes from the cache


def test_the_search_box_shows_the_search_and_is_blank_again_after(viewer_client):
    def box(params: dict[str, str]) -> str:
        html = viewer_client.get(LIST, params).content.decode()
        start = html.index('id="list-search"') - 200
        return html[start : html.index(">", start + 200)]

    assert 'value="' not in box({})
    assert 'value="Asha &amp; co"' in box({"q": "Asha & co"})
    assert 'value="' not in box({})  # the cached blank box, not the last search
