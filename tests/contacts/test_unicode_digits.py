"""Characters that ``str.isdigit`` calls digits but ``int`` refuses ("²") and ids too large
for any column: a clear message, never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bulkupload.mapping import RowPlanner
from contacts.fields import field_registry
from contacts.phones import PhoneError, normalize_country_code
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["²", "٩١", "99999999999999999999"])
def test_odd_country_codes_are_refused_naming_the_field(code):
    with pytest.raises(PhoneError) as caught:
        normalize_country_code(code)
    assert caught.value.field == "country_code" and "not a known country code" in str(caught.value)


def test_an_import_row_with_such_a_country_code_fails_alone():
    mapping = [
        {"kind": "field", "key": "name"},
        {"kind": "field", "key": "phone"},
        {"kind": "field", "key": "country_code"},
    ]
    planner = RowPlanner(mapping, field_registry())
    row = planner.plan(["Asha", "9876543210", "²"])
    assert row.phone is None and row.errors and "country code" in row.errors[0].lower()
    assert planner.plan(["Bala", "9876543210", "91"]).phone.e164 == "+919876543210"


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_list_parameters_with_odd_numbers_give_a_message(editor_client, value):
    response = editor_client.get(reverse("contacts:list"), {"upload": value, "view": value})
    assert response.status_code == 200
    assert "is not an upload number" in response.content.decode()


def test_bulk_ids_with_odd_numbers_are_refused(editor_client):
    contact = make_contact(name="A")
    response = editor_client.get(
        reverse("contacts:list-bulk"),
        {"action": "tags_add", "ids": [str(contact.pk), "²", "9" * 30]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Add tags to <strong>" not in response.content.decode()  # not a confirmation
