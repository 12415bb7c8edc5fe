"""The Duplicates page, the side-by-side merge, the redirect and the unmerge button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Activity, Contact, DuplicateScan, NotDuplicatePair
from contacts.services import Actor, attribute_create, contacts_merge
from contacts.services.duplicates import duplicate_scan_run, duplicate_scan_start
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("contacts:duplicates")
MERGE = reverse("contacts:merge")


@pytest.fixture
def pair() -> tuple[Contact, Contact]:
    attribute_create(label="City", key="city", type="text")
    return (
        make_contact(phone_number="9700000001", name="Asha", email="asha@example.com", city="Pune"),
        make_contact(
            phone_number="9700000002", name="Asha K", email="ASHA@example.com", city="Goa"
        ),
    )


def scan() -> DuplicateScan:
    return duplicate_scan_run(scan_id=duplicate_scan_start(actor=Actor.system()).pk)


def test_viewers_see_no_duplicates_page_and_editors_cannot_merge(
    viewer_client, editor_client, pair
):
    assert viewer_client.get(DUPLICATES).status_code == 403
    assert editor_client.get(DUPLICATES).status_code == 200
    ids = {"ids": [pair[0].pk, pair[1].pk]}
    assert editor_client.get(MERGE, ids).status_code == 403


def test_the_page_lists_groups_with_reasons_and_finds_on_post(
    manager_client, pair, django_assert_max_num_queries
):
    response = manager_client.post(reverse("contacts:duplicates-find"))
    assert response.status_code == 302
    assert DuplicateScan.objects.get().status == "queued"  # the worker runs it
    duplicate_scan_run(scan_id=DuplicateScan.objects.get().pk)
    for n in range(5):
        make_contact(email=f"twin{n}@example.org")
        make_contact(email=f"TWIN{n}@example.org")
    scan()

    with django_assert_max_num_queries(12):
        page = manager_client.get(DUPLICATES).content.decode()

    assert "Same email asha@example.com" in page
    assert page.count('data-testid="duplicate-group"') == 6
    assert "Merge…" in page


def test_polling_refreshes_the_page_once_the_search_finished(manager_client, pair):
    duplicate_scan_start(actor=Actor.system())
    polled = manager_client.get(DUPLICATES, headers={"HX-Request": "true"})
    assert 'id="progress"' in polled.content.decode()
    duplicate_scan_run(scan_id=DuplicateScan.objects.get().pk)
    finished = manager_client.get(DUPLICATES, headers={"HX-Request": "true"})
    assert finished.headers["HX-Refresh"] == "true"


def test_not_duplicates_hides_the_group(editor_client, pair):
    scan()
    editor_client.post(reverse("contacts:duplicates-not"), {"ids": [pair[0].pk, pair[1].pk]})

    assert NotDuplicatePair.objects.filter(low_id=pair[0].pk, high_id=pair[1].pk).exists()
    assert 'data-testid="duplicate-group"' not in editor_client.get(DUPLICATES).content.decode()


def test_merge_page_shows_differing_fields_side_by_side_and_merges_the_picks(manager_client, pair):
    survivor, other = pair
    ids = [survivor.pk, other.pk]
    page = manager_client.get(MERGE, {"ids": ids}).content.decode()
    assert 'data-field="city"' in page and "Goa" in page and "Pune" in page
    assert 'data-field="whatsapp_opted"' not in page  # the same on both

    response = manager_client.post(
        MERGE,
        {
            "ids": ids,
            "survivor": survivor.pk,
            "pick_city": other.pk,
            f"version_{survivor.pk}": survivor.version,
            f"version_{other.pk}": other.version,
        },
    )

    assert response.url == reverse("contacts:detail", args=[survivor.pk])
    survivor.refresh_from_db()
    assert (survivor.name, survivor.traits["city"]) == ("Asha", "Goa")
    redirect = manager_client.get(reverse("contacts:detail", args=[other.pk]))
    assert redirect.url == reverse("contacts:detail", args=[survivor.pk])


def test_a_contact_changed_since_the_merge_page_refuses_the_merge(manager_client, pair):
    survivor, other = pair
    response = manager_client.post(
        MERGE,
        {"ids": [survivor.pk, other.pk], "survivor": survivor.pk, f"version_{other.pk}": 0},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    assert Contact.objects.count() == 2


def test_a_pick_that_is_none_of_the_contacts_values_is_named_and_nothing_merges(
    manager_client, pair
):
    survivor, other = pair
    third = make_contact(phone_number="9700000003", name="Someone else")
    response = manager_client.post(
        MERGE, {"ids": [survivor.pk, other.pk], "survivor": survivor.pk, "pick_city": third.pk}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "City: choose one of the contacts&#x27; values" in page
    assert 'data-testid="merge-fields"' in page  # the table again, to pick once more
    assert Contact.objects.count() == 3


def test_choosing_the_other_survivor_redraws_the_table_around_it(manager_client, pair):
    survivor, other = pair
    page = manager_client.get(
        MERGE, {"ids": [survivor.pk, other.pk], "survivor": other.pk}
    ).content.decode()
    assert f'<option value="{other.pk}" selected>' in page
    assert f"Merge into #{other.pk}" in page
    # Each differing field defaults to the new survivor's value.
    city = page.split('data-field="city"')[1].split("</tr>")[0]
    assert f'value="{other.pk}" class="form-check-input" checked' in city
    assert f'value="{survivor.pk}" class="form-check-input">' in city


def test_a_survivor_that_is_not_one_of_the_contacts_falls_back_to_the_first(manager_client, pair):
    survivor, other = pair
    page = manager_client.get(
        MERGE, {"ids": [survivor.pk, other.pk], "survivor": "x"}
    ).content.decode()
    assert f"Merge into #{survivor.pk}" in page


def test_unmerge_from_the_survivors_timeline(manager_client, pair):
    survivor, other = pair
    entry = contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])
    page = manager_client.get(reverse("contacts:detail", args=[survivor.pk])).content.decode()
    assert f"Merged contact(s) {other.pk} into this one" in page
    assert 'data-testid="unmerge"' in page

    manager_client.post(reverse("contacts:unmerge", args=[survivor.pk, entry.pk]))

    assert Contact.objects.filter(pk=other.pk).exists()
    page = manager_client.get(reverse("contacts:detail", args=[survivor.pk])).content.decode()
    assert "(undone)" in page and 'data-testid="unmerge"' not in page
    assert Activity.objects.filter(kind=Activity.Kind.UNMERGED).count() == 2


def test_admin_action_merges_into_the_oldest(admin_client_, pair):
    survivor, other = pair
    response = admin_client_.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "merge_into_oldest", "_selected_action": [survivor.pk, other.pk]},
        follow=True,
    )
    assert f"into contact {survivor.pk}" in response.content.decode()
    assert list(Contact.objects.values_list("pk", flat=True)) == [survivor.pk]
