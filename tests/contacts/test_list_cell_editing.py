"""Editing a list cell in place: the contact page's editor, answering with table cells."""

from __future__ import annotations

import json
from html import escape

import pytest
from django.urls import reverse

from contacts.models import Activity, Contact, ListPreference
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


def edit_url(contact: Contact, key: str, *, link: bool = False) -> str:
    url = reverse("contacts:field-edit", args=[contact.pk, key]) + "?in=list"
    return url + "&link=1" if link else url


def test_editor_gets_a_named_pencil_on_editable_cells_and_none_on_the_phone(editor_client):
    asha = make_contact(name="Asha", email="a@example.com")
    html = editor_client.get(LIST).content.decode()
    assert 'aria-label="Edit Email of Asha"' in html
    assert f'data-edit="{edit_url(asha, "email")}"' in html
    assert f'data-edit="{escape(edit_url(asha, "name", link=True))}"' in html  # the linked column
    assert "Edit Phone of Asha" not in html
    assert "Edit Tags of Asha" not in html  # tags have their own editor


def test_viewer_gets_no_pencil(viewer_client):
    make_contact(name="Asha", email="a@example.com")
    html = viewer_client.get(LIST).content.decode()
    assert "Asha" in html
    assert "cell-edit" not in html and "data-edit=" not in html


def test_opening_a_cell_gives_the_kind_editor_posting_back_in_cells(editor_client):
    asha = make_contact(name="Asha", email="a@example.com")
    response = editor_client.get(edit_url(asha, "email"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="cell-editor is-editing"' in html
    assert f'hx-post="{escape(edit_url(asha, "email"))}"' in html
    assert 'hx-target="closest td"' in html
    assert 'value="a@example.com"' in html
    assert "Email of Asha</label>" in html
    assert "data-cancel" in html and "?in=list" in html.split("data-cancel", 1)[1]
    assert "field-row" not in html  # not the contact page's row


def test_saving_a_cell_writes_one_activity_and_answers_with_the_cell(editor_client, editor):
    asha = make_contact(name="Asha", email="a@example.com")
    before = Activity.objects.filter(contact=asha).count()
    response = editor_client.post(
        edit_url(asha, "email"), {"value": "asha@example.com", "expected": '"a@example.com"'}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "asha@example.com" in html
    assert 'class="cell-edit"' in html and "Edit Email of Asha" in html
    assert "cell-editor" not in html
    asha.refresh_from_db()
    assert asha.email == "asha@example.com"
    entries = Activity.objects.filter(contact=asha).order_by("-pk")
    assert entries.count() == before + 1
    assert entries[0].changes == {"fields": {"email": ["a@example.com", "asha@example.com"]}}
    assert entries[0].actor_user == editor


def test_saving_the_first_column_keeps_its_link(editor_client):
    asha = make_contact(name="Asha")
    response = editor_client.post(
        edit_url(asha, "name", link=True), {"value": "Asha K", "expected": '"Asha"'}
    )
    detail = reverse("contacts:detail", args=[asha.pk])
    assert f'<a href="{detail}">Asha K</a>' in response.content.decode()


def test_a_bad_value_stays_in_the_cell_with_the_problem(editor_client):
    asha = make_contact(name="Asha", email="a@example.com")
    response = editor_client.post(
        edit_url(asha, "email"), {"value": "not an email", "expected": '"a@example.com"'}
    )
    html = response.content.decode()
    assert "cell-editor" in html and 'role="alert"' in html and "Email" in html
    asha.refresh_from_db()
    assert asha.email == "a@example.com"


def test_a_stale_cell_is_a_conflict_that_offers_overwrite(editor_client):
    asha = make_contact(name="Asha", email="a@example.com")
    editor_client.post(
        edit_url(asha, "email"), {"value": "b@example.com", "expected": '"a@example.com"'}
    )
    response = editor_client.post(
        edit_url(asha, "email"), {"value": "c@example.com", "expected": '"a@example.com"'}
    )
    html = response.content.decode()
    assert "was changed by someone else" in html
    assert "b@example.com" in html and "Overwrite with mine" in html
    assert 'name="expected" value="&quot;b@example.com&quot;"' in html
    assert "cell-editor" in html
    asha.refresh_from_db()
    assert asha.email == "b@example.com"


def test_cancel_gives_the_cell_back(editor_client):
    asha = make_contact(name="Asha", email="a@example.com")
    url = reverse("contacts:field", args=[asha.pk, "email"]) + "?in=list"
    html = editor_client.get(url).content.decode()
    assert "a@example.com" in html and "Edit Email of Asha" in html
    assert "field-row" not in html


def test_the_phone_stays_locked_in_the_list(editor_client):
    asha = make_contact(name="Asha", phone_number="9876543210")
    before = asha.phone_number
    response = editor_client.post(edit_url(asha, "phone"), {"value": "9123456780"})
    assert response.status_code == 400
    asha.refresh_from_db()
    assert asha.phone_number == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_is_refused_even_without_a_pencil(viewer_client, method):
    asha = make_contact(name="Asha", email="a@example.com")
    data = {"value": "x@example.com", "expected": json.dumps("a@example.com")}
    response = getattr(viewer_client, method)(edit_url(asha, "email"), data)
    assert response.status_code == 403
    asha.refresh_from_db()
    assert asha.email == "a@example.com"


def test_a_viewer_cancelling_gets_a_cell_without_a_pencil(viewer_client):
    asha = make_contact(name="Asha", email="a@example.com")
    url = reverse("contacts:field", args=[asha.pk, "email"]) + "?in=list"
    html = viewer_client.get(url).content.decode()
    assert "a@example.com" in html and "cell-edit" not in html


def test_cell_editing_queries_do_not_depend_on_the_list(
    editor_client, editor, django_assert_max_num_queries
):
    ListPreference.objects.create(user=editor, columns=["name", "email", "city"])
    asha = make_contact(name="Asha", email="a@example.com")
    for i in range(20):
        make_contact(name=f"Other {i}")
    with django_assert_max_num_queries(8):
        editor_client.get(edit_url(asha, "email"))
    with django_assert_max_num_queries(16):
        editor_client.post(
            edit_url(asha, "email"), {"value": "b@example.com", "expected": '"a@example.com"'}
        )


def test_the_list_offers_the_shortcuts_dialog_and_named_column_moves(viewer_client):
    html = viewer_client.get(LIST).content.decode()
    assert 'id="shortcuts-dialog"' in html and "Keyboard shortcuts" in html
    panel = viewer_client.get(reverse("contacts:list-columns")).content.decode()
    assert 'aria-label="Move Name left"' in panel and 'aria-label="Move Name right"' in panel
    assert 'draggable="true"' in panel
    assert "js/list-keys.js" in html
