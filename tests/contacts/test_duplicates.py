"""Finding probable duplicates: the reasons, "not duplicates", the job and the commands."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Contact, DuplicateGroup, DuplicateScan
from contacts.selectors.duplicates import duplicate_groups_page
from contacts.services import Actor, contacts_merge
from contacts.services.duplicates import (
    duplicate_scan_run,
    duplicate_scan_start,
    duplicates_find,
    duplicates_mark_not,
)
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Contact]:
    return {
        "a": make_contact(phone_number="9700000001", email="Asha@Example.com"),
        "b": make_contact(phone_number="9700000002", email="asha@example.COM"),
        "c": make_contact(phone_number="9700000003", country_code="91"),
        "d": make_contact(phone_number="9700000003", country_code="44"),
        "e": make_contact(phone_number="9700000005", name="Ravi Rao", email="ravi@shop.in"),
        "f": make_contact(phone_number="9700000006", name="ravi rao", email="rr@Shop.in"),
        "g": make_contact(phone_number="9700000007", name="Ravi Rao", email="ravi@other.in"),
    }


def found() -> dict[str, list[int]]:
    return {group.reason: group.contact_ids for group in duplicates_find()}


def test_the_three_reasons_group_set_wise(people):
    p = {key: c.pk for key, c in people.items()}

    assert found() == {
        "same email asha@example.com": [p["a"], p["b"]],
        "same phone digits 9700000003 under different country codes": sorted([p["c"], p["d"]]),
        "same name ravi rao and email domain shop.in": [p["e"], p["f"]],
    }


def test_pairs_marked_not_duplicates_never_come_back(people):
    duplicates_mark_not(actor=Actor.system(), contact_ids=[people["a"].pk, people["b"].pk])
    third = make_contact(email="ASHA@example.com")

    groups = found()

    # a and b stay only as far as each is in an unmarked pair (with the third).
    assert groups["same email asha@example.com"] == [people["a"].pk, people["b"].pk, third.pk]
    duplicates_mark_not(actor=Actor.system(), contact_ids=[people["a"].pk, third.pk])
    duplicates_mark_not(actor=Actor.system(), contact_ids=[people["b"].pk, third.pk])
    assert "same email asha@example.com" not in found()


def test_the_scan_is_a_job_with_progress_and_its_groups_replace_the_last_ones(people):
    first = duplicate_scan_run(scan_id=duplicate_scan_start(actor=Actor.system()).pk)
    assert (first.status, first.done, first.total) == (DuplicateScan.Status.COMPLETED, 3, 3)
    contacts_merge(actor=Actor.system(), survivor_id=people["a"].pk, other_ids=[people["b"].pk])

    second = duplicate_scan_run(scan_id=duplicate_scan_start(actor=Actor.system()).pk)

    assert set(DuplicateGroup.objects.values_list("scan_id", flat=True)) == {second.pk}
    assert DuplicateGroup.objects.count() == 2


def test_the_page_leaves_out_merged_and_marked_contacts(people, django_assert_max_num_queries):
    duplicate_scan_run(scan_id=duplicate_scan_start(actor=Actor.system()).pk)
    contacts_merge(actor=Actor.system(), survivor_id=people["a"].pk, other_ids=[people["b"].pk])
    duplicates_mark_not(actor=Actor.system(), contact_ids=[people["c"].pk, people["d"].pk])

    with django_assert_max_num_queries(4):
        _, rows = duplicate_groups_page()

    assert [[c.pk for c in row.contacts] for row in rows] == [[people["e"].pk, people["f"].pk]]


def test_a_scan_stopped_after_a_reason_resumes_with_the_next(people):
    scan = duplicate_scan_start(actor=Actor.system())
    stopped = duplicate_scan_run(scan_id=scan.pk, should_stop=lambda: True)
    assert (stopped.status, stopped.done) == (DuplicateScan.Status.QUEUED, 1)

    finished = duplicate_scan_run(scan_id=scan.pk)

    assert (finished.status, finished.done) == (DuplicateScan.Status.COMPLETED, 3)
    assert DuplicateGroup.objects.filter(scan=scan).count() == 3


def test_find_duplicates_prints_the_groups(people, capsys):
    call_command("find_duplicates")

    out = capsys.readouterr().out
    assert f"same email asha@example.com: {people['a'].pk} {people['b'].pk}" in out


def test_merge_contacts_command_merges_and_refuses_clearly(people, capsys):
    a, b = people["a"], people["b"]
    call_command("merge_contacts", str(a.pk), str(b.pk))

    assert f"Merged {b.pk} into contact {a.pk}" in capsys.readouterr().out
    assert not Contact.objects.filter(pk=b.pk).exists()
    with pytest.raises(CommandError, match="into itself"):
        call_command("merge_contacts", str(a.pk), str(a.pk))
    with pytest.raises(CommandError, match="already merged"):
        call_command("merge_contacts", str(a.pk), str(b.pk))
