"""Settings > Fields: roles, the list, rename, hide, index, kind change preview, delete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Attribute, FieldChange
from contacts.services import attribute_create
from contacts.services.field_changes import field_change_run
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

FIELDS = reverse("contacts:fields")


@pytest.fixture
def score() -> Attribute:
    return attribute_create(label="Score", key="score", type="text")


def url(name: str, attribute: Attribute) -> str:
    return reverse(f"contacts:{name}", args=[attribute.pk])


def test_viewers_and_editors_are_refused_every_page_and_change(viewer_client, editor_client, score):
    for client in (viewer_client, editor_client):
        assert client.get(FIELDS).status_code == 403
        assert client.get(url("field-settings", score)).status_code == 403
        assert client.post(url("field-rename", score), {"label": "X"}).status_code == 403
        assert client.post(url("field-hide", score), {"hidden": "1"}).status_code == 403
        assert client.post(url("field-index", score), {"indexed": "1"}).status_code == 403
        assert client.post(url("field-kind", score), {"type": "number"}).status_code == 403
        assert client.post(url("field-delete", score), {"confirm": "score"}).status_code == 403
        csv = url("field-kind-unconverted", score) + "?type=number"
        assert client.get(csv).status_code == 403
    score.refresh_from_db()
    assert (score.label, score.hidden, score.type) == ("Score", False, "text")
    assert not FieldChange.objects.exists()
    assert "Fields</a>" not in editor_client.get(reverse("contacts:list")).content.decode()


def test_the_list_shows_every_field_with_counts_in_constant_queries(
    manager_client, django_assert_max_num_queries
):
    for n in range(3):
        attribute_create(label=f"Field {n}", key=f"field_{n}", type="number")
    make_contact(name="A", field_0=1)
    make_contact(name="B", field_0=2, field_1=3)
    with django_assert_max_num_queries(9) as few:
        manager_client.get(FIELDS)
    for n in range(3, 9):
        attribute_create(label=f"Field {n}", key=f"field_{n}", type="text")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager_client.get(FIELDS).content.decode()
    assert "Fields</a>" in page  # linked from the navigation for managers
    assert page.count('data-testid="field-link"') == 9
    row = page[page.index('data-field="field_0"') :]
    row = " ".join(row[: row.index("</tr>")].split())
    assert '<td >Number</td> <td class="text-end">2</td> <td ><span class="false">No</span>' in row
    assert 'data-field="email"' in page  # built-ins are listed too


def test_rename_keeps_the_key_and_refuses_a_taken_or_empty_label_naming_the_field(
    manager_client, score
):
    attribute_create(label="City", key="city", type="text")
    response = manager_client.post(url("field-rename", score), {"label": "city"})
    assert response.status_code == 422
    assert "Score: a field called &quot;City&quot; already exists" in response.content.decode()
    response = manager_client.post(url("field-rename", score), {"label": "  "})
    assert response.status_code == 422
    assert "Score: the new label is required" in response.content.decode()

    response = manager_client.post(url("field-rename", score), {"label": "Lead score"})
    assert response.status_code == 302
    score.refresh_from_db()
    assert (score.label, score.key) == ("Lead score", "score")


def test_hidden_fields_leave_the_pickers_but_stay_on_the_contact_page(manager_client, score):
    contact = make_contact(name="Asha", score="9")
    manager_client.post(url("field-hide", score), {"hidden": "1"})
    listing = manager_client.get(reverse("contacts:list")).content.decode()
    panel = manager_client.get(reverse("contacts:list-columns")).content.decode()
    assert 'value="score"' not in listing + panel  # neither the column nor the filter picker
    detail = manager_client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "Score" in detail and "9" in detail


def test_kind_preview_counts_lists_and_downloads_the_values_that_would_not_convert(
    manager_client, score
):
    good, bad = make_contact(score="10"), make_contact(score="lots")
    response = manager_client.post(
        url("field-kind-preview", score), {"type": "number"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page  # the preview fragment
    assert 'data-testid="unconverted-count">1<' in page
    assert f"Contact #{bad.pk}" in page and f"#{good.pk}" not in page

    csv = manager_client.get(url("field-kind-unconverted", score) + "?type=number")
    body = b"".join(csv.streaming_content).decode().removeprefix("\ufeff")  # for Excel
    assert body.splitlines() == [
        "contact_id,phone,user_id,score,problem",
        f"{bad.pk},{bad.phone},,lots,expected a number",
    ]


def test_bad_kind_input_is_refused_with_a_message_naming_the_field(manager_client, score):
    response = manager_client.post(
        url("field-kind-preview", score), {"type": "colour"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert (
        'data-testid="kind-error"' in page
        and "Score: &quot;colour&quot; is not a kind it can change to" in page
    )
    response = manager_client.post(url("field-kind", score), {"type": "text"})
    refused = response.content.decode()
    assert response.status_code == 422
    assert "Score: &quot;text&quot; is not a kind it can change to" in refused
    csv = manager_client.get(url("field-kind-unconverted", score) + "?type=text")
    assert csv.status_code == 400 and "Score: is already a text field" in csv.content.decode()
    assert not FieldChange.objects.exists()


def test_applying_a_kind_change_queues_the_job_and_the_page_polls_its_progress(
    manager_client, score, django_assert_max_num_queries
):
    for n in range(3):
        make_contact(score=str(n))
    response = manager_client.post(url("field-kind", score), {"type": "number"})
    assert response.status_code == 302
    change = FieldChange.objects.get()
    assert (change.operation, change.status, change.total) == ("kind", "queued", 3)
    with django_assert_max_num_queries(7):
        fragment = manager_client.get(url("field-settings", score), headers={"HX-Request": "true"})
    assert 'data-testid="field-change-progress"' in fragment.content.decode()

    field_change_run(change_id=change.pk)
    done = manager_client.get(url("field-settings", score), headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"
    assert "Number" in manager_client.get(url("field-settings", score)).content.decode()


def test_delete_needs_the_key_typed_and_a_manager(manager_client, editor_client, score):
    response = manager_client.post(url("field-delete", score), {"confirm": "Score"})
    assert response.status_code == 422
    assert "Score: type &quot;score&quot; to delete this field" in response.content.decode()
    assert not FieldChange.objects.exists()

    response = manager_client.post(url("field-delete", score), {"confirm": "score"})
    assert response.status_code == 302
    change = FieldChange.objects.get(operation="delete")
    field_change_run(change_id=change.pk)
    assert not Attribute.objects.filter(pk=score.pk).exists()
    gone = manager_client.get(url("field-settings", score))
    assert gone.status_code == 302 and gone.url == FIELDS
    assert "Score" in manager_client.get(FIELDS).content.decode()  # in the recent changes


def test_indexing_from_the_page_queues_a_job_and_a_list_field_is_refused(manager_client, score):
    hobbies = attribute_create(label="Hobbies", key="hobbies", type="list")
    response = manager_client.post(url("field-index", hobbies), {"indexed": "1"}, follow=True)
    assert "Hobbies: a list field cannot be indexed" in response.content.decode()
    manager_client.post(url("field-index", score), {"indexed": "1"})
    assert FieldChange.objects.get().operation == "index"


def test_timelines_show_a_kind_change_and_a_delete_each_value_in_its_own_kind(manager_client):
    from contacts.services import Actor, field_delete_start, field_kind_change_start

    flag = attribute_create(label="Flag", key="flag", type="text")
    hobbies = attribute_create(label="Hobbies", key="hobbies", type="list")
    contact = make_contact(flag="maybe", hobbies=["chess", "golf"])
    for change in (
        field_kind_change_start(actor=Actor.system(), attribute_id=flag.pk, to_type="boolean"),
        field_delete_start(actor=Actor.system(), attribute_id=hobbies.pk),
    ):
        field_change_run(change_id=change.pk)

    page = manager_client.get(reverse("contacts:timeline", args=[contact.pk])).content.decode()
    text = " ".join(page.split())
    assert "Flag changed to a boolean field" in text
    assert "maybe" in text and "Yes" not in text  # the text value, not read as a boolean
    assert "restore-flag" not in text  # an earlier kind's value is not put back
    assert "Field hobbies deleted" in text
    assert "chess, golf" in text  # the list as a list reads
