"""AND/OR filter groups: the model, its URL, and every surface it drives (list, count, saved
views, export, bulk actions), with old-style ``f=`` URLs giving the results they gave."""

from __future__ import annotations

import csv
import io
from functools import reduce

import pytest
from django.db.models import Q
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from contacts.fields import field_registry
from contacts.filtering import FilterTree, is_filter_param, parse_filter_tree
from contacts.filters import parse_filter
from contacts.models import Contact, FieldType, ListPreference, SavedView
from contacts.selectors import contact_list, parse_list_query
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
EXPORT = reverse("contacts:list-export")
BULK = reverse("contacts:list-bulk")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


@pytest.fixture
def people() -> dict[str, Contact]:
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    return {
        "asha": make_contact(name="Asha", city="Pune", score=5, tags=["VIP"]),
        "bala": make_contact(name="Bala", city="Delhi", score=50),
        "chitra": make_contact(name="Chitra", city="Pune", score=80, tags=["Lead"]),
        "dev": make_contact(name="Dev", city="Goa", score=1),
    }


def names_for(params: str) -> list[str]:
    registry = field_registry()
    query = parse_list_query(QueryDict(params), registry)
    assert query.errors == []
    return sorted(c.name for c in contact_list(registry=registry, filters=query.filters))


def list_names(client: Client, params: str) -> list[str]:
    html = client.get(f"{LIST}?{params}").content.decode()
    return [n for n in ("Asha", "Bala", "Chitra", "Dev") if f">{n}</a>" in html]


# --- The model and its URL ---------------------------------------------------------------------
def test_an_any_group_of_two_conditions_is_an_or(people):
    assert names_for("g0=any&f=city:eq:Goa&f=score:gt:60") == ["Chitra", "Dev"]


def test_groups_combine_with_all_by_default_and_any_with_match(people):
    # (city is Pune) AND (score > 60 OR has tag VIP)
    grouped = "f=city:eq:Pune&g1=any&g1.f=score:gt:60&g1.f=tags:any:VIP"
    assert names_for(grouped) == ["Asha", "Chitra"]
    # (city is Goa) OR (score > 40 AND city is Delhi)
    either = "f=city:eq:Goa&g1.f=score:gt:40&g1.f=city:eq:Delhi&match=any"
    assert names_for(either) == ["Bala", "Dev"]


@pytest.mark.parametrize(
    "old_url",
    [
        "f=city:eq:Pune",
        "f=city:eq:Pune&f=score:gt:10",
        "f=city:ne:Pune&f=tags:none:VIP",
        "f=score:between:1|50",
    ],
)
def test_old_style_urls_give_the_same_results_as_anding_each_filter(people, old_url):
    registry = field_registry()
    conditions = [parse_filter(v, registry).q() for v in QueryDict(old_url).getlist("f")]
    anded = Contact.objects.filter(reduce(lambda a, b: a & b, conditions))
    assert names_for(old_url) == sorted(c.name for c in anded)
    assert parse_list_query(QueryDict(old_url), registry).querystring() == (
        "?" + QueryDict(old_url).urlencode()
    )


def test_urls_are_canonical_empty_groups_drop_and_renumber(people):
    registry = field_registry()
    query = parse_list_query(
        QueryDict("g3=any&g3.f=city:eq:Goa&g3.f=score:gt:60&match=any"), registry
    )
    # One group left: it becomes group 0 (plain f=), and "match" means nothing for one group.
    assert query.querystring() == "?g0=any&f=city%3Aeq%3AGoa&f=score%3Agt%3A60"
    assert parse_list_query(QueryDict("g0.f=city:eq:Goa"), registry).querystring() == (
        "?f=city%3Aeq%3AGoa"
    )


def test_a_bad_condition_is_named_and_the_rest_still_apply(people):
    tree, errors = parse_filter_tree(
        QueryDict("f=city:eq:Pune&g1.f=score:gt:lots&g1.f=score:gt:60"), field_registry()
    )
    assert errors == ['Score: expected a number (got "lots")']
    assert len(tree.groups) == 2 and len(tree.conditions) == 2


def test_groups_past_the_limit_are_named_and_not_applied(people):
    params = QueryDict(mutable=True)
    for n in range(12):
        params.setlist(f"g{n}.f", ["score:gt:0"])
    tree, errors = parse_filter_tree(params, field_registry())
    assert len(tree.groups) == 10
    assert errors == ["Filter group 11: at most 10 groups", "Filter group 12: at most 10 groups"]


def test_changes_return_new_trees():
    registry = field_registry()
    pune = parse_filter("name:eq:Pune", registry)
    goa = parse_filter("name:eq:Goa", registry)
    tree = FilterTree.of([pune]).with_condition(goa, 1)
    assert [len(g.conditions) for g in tree.groups] == [1, 1]
    assert tree.with_match_switched().any and not tree.any
    assert tree.with_group_switched(1).groups[1].any
    assert tree.without_condition(0, 0).params() == [("f", "name:eq:Goa")]
    assert not FilterTree() and FilterTree().q() == Q()


def test_filter_params_are_recognised():
    assert all(map(is_filter_param, ["f", "g1.f", "g12", "match"]))
    assert not any(map(is_filter_param, ["q", "sort", "g", "g123.f", "gx.f", "page"]))


# --- The list page -----------------------------------------------------------------------------
def test_adding_a_filter_to_a_new_group_and_switching_modes(viewer_client, people):
    response = viewer_client.get(
        LIST,
        {"f": "city:eq:Goa", "nf_field": "score", "nf_op": "gt", "nf_value": "60", "nf_group": "1"},
        **HTMX,
    )
    assert response["HX-Push-Url"] == f"{LIST}?f=city%3Aeq%3AGoa&g1.f=score%3Agt%3A60"
    html = response.content.decode()
    assert 'aria-label="Groups combine with AND: switch to OR"' in html
    assert f'href="{LIST}?f=city%3Aeq%3AGoa&amp;g1.f=score%3Agt%3A60&amp;match=any"' in html
    assert 'name="g1.f" value="score:gt:60"' in html  # carried by the list's state
    assert list_names(viewer_client, "f=city:eq:Goa&g1.f=score:gt:60&match=any") == [
        "Chitra",
        "Dev",
    ]


def test_group_mode_switch_and_chip_removal_links(viewer_client, people):
    html = viewer_client.get(f"{LIST}?f=city:eq:Goa&f=score:gt:60").content.decode()
    assert 'aria-label="Group 1 matches all of its filters: switch to any"' in html
    assert f'href="{LIST}?g0=any&amp;f=city%3Aeq%3AGoa&amp;f=score%3Agt%3A60"' in html
    assert f'href="{LIST}?f=score%3Agt%3A60"' in html  # removes "City is Goa" only
    assert "0 matching" in html


def test_a_new_group_cannot_pass_the_limit(viewer_client, people):
    response = viewer_client.get(
        LIST, {"nf_field": "score", "nf_op": "gt", "nf_value": "1", "nf_group": "10"}, **HTMX
    )
    assert response["HX-Replace-Url"] == LIST
    assert "Filter group: choose one of groups 1 to 10." in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"g0": "any", "f": ["city:eq:Goa", "score:gt:60"]},
        {"f": "city:eq:Pune", "g1": "any", "g1.f": ["score:gt:60", "tags:any:VIP"], "match": "any"},
    ],
)
def test_query_count_per_page_is_constant_for_grouped_filters(
    editor_client, editor, django_assert_max_num_queries, params
):
    # The same budget as a plain filtered page (tests/contacts/test_list_views.py).
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    ListPreference.objects.create(user=editor, columns=["name", "city", "tags", "phone"])
    for i in range(3):
        make_contact(name=f"S{i}", city="Goa", tags=["VIP"])
    with django_assert_max_num_queries(12):
        small = editor_client.get(LIST, params)
    for i in range(40):
        make_contact(name=f"L{i}", city="Goa", score=70, tags=["VIP", f"T{i}"])
    with django_assert_max_num_queries(12):
        large = editor_client.get(LIST, params)
    assert small.content.decode().count('name="ids"') == 3
    assert large.content.decode().count('name="ids"') == 43


# --- Saved views, export, bulk actions -----------------------------------------------------------
def test_a_grouped_view_is_saved_and_opened_with_its_groups(editor_client, editor, people):
    state = {"f": "city:eq:Goa", "g1.f": "score:gt:60", "match": "any"}
    editor_client.post(reverse("contacts:list-view-save"), {"name": "Goa or high", **state})
    view = SavedView.objects.get()
    assert view.query == {
        "q": "",
        "f": ["city:eq:Goa"],
        "g1.f": ["score:gt:60"],
        "match": ["any"],
        "sort": "-created_at",
    }
    opened = editor_client.get(reverse("contacts:list-view-open", args=[view.pk]))
    assert opened["Location"] == (
        f"{LIST}?f=city%3Aeq%3AGoa&g1.f=score%3Agt%3A60&match=any&view={view.pk}"
    )
    assert list_names(editor_client, opened["Location"].split("?")[1]) == ["Chitra", "Dev"]


def test_a_view_saved_before_groups_opens_as_before(editor_client, editor, people):
    view = SavedView.objects.create(
        name="Old", owner=editor, query={"q": "", "f": ["city:eq:Pune", "score:gt:10"]}
    )
    opened = editor_client.get(reverse("contacts:list-view-open", args=[view.pk]))
    assert opened["Location"] == f"{LIST}?f=city%3Aeq%3APune&f=score%3Agt%3A10&view={view.pk}"
    assert list_names(editor_client, opened["Location"].split("?")[1]) == ["Chitra"]


def test_export_and_bulk_confirmation_use_the_groups(editor_client, people):
    state = {"g0": "any", "f": ["city:eq:Goa", "score:gt:60"]}
    rows = list(csv.DictReader(io.StringIO(b"".join(editor_client.get(EXPORT, state)).decode())))
    assert sorted(r["Name"] for r in rows) == ["Chitra", "Dev"]
    html = editor_client.get(BULK, {"action": "export", **state}, **HTMX).content.decode()
    assert "Export <strong>2 contacts</strong>" in html
    assert '<input type="hidden" name="g0" value="any">' in html


def test_bulk_tag_add_on_every_matching_contact_of_an_or_group(editor_client, people):
    state = {"g0": "any", "f": ["city:eq:Goa", "score:gt:60"]}
    editor_client.post(BULK, {"action": "tags_add", "tags": "Picked", **state}, **HTMX)
    tagged = Contact.objects.filter(tags__name="Picked").values_list("name", flat=True)
    assert sorted(tagged) == ["Chitra", "Dev"]


def test_sort_and_page_links_keep_the_groups(viewer_client, people):
    html = viewer_client.get(f"{LIST}?f=city:eq:Goa&g1.f=score:gt:60&match=any").content.decode()
    assert "f=city%3Aeq%3AGoa&amp;g1.f=score%3Agt%3A60&amp;match=any&amp;sort=name" in html


def test_the_condition_cap_counts_every_group(people):
    params = QueryDict(mutable=True)
    params.setlist("f", ["score:gt:0"] * 30)
    params.setlist("g1.f", ["score:gt:0"] * 30)
    tree, errors = parse_filter_tree(params, field_registry())
    assert [len(g.conditions) for g in tree.groups] == [30, 20]
    assert errors == ["Filters: at most 50 conditions; the first 50 of 60 are applied"]
