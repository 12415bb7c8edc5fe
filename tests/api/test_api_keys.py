"""Settings > API keys, the admin and ``manage.py create_api_key``: shown once, revocable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contacts.api_keys import api_key_create, hash_key
from contacts.models import ApiKey
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys/"


def test_managers_create_a_key_shown_once(manager_client, manager):
    response = manager_client.post("/settings/api-keys/new/", {"name": "Shop"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    api_key = ApiKey.objects.get()
    secret = response.context["created"].secret
    assert api_key.secret_hash == hash_key(secret)
    assert api_key.created_by == manager
    html = response.content.decode()
    assert secret in html
    assert ApiClient(secret).get("/v1/public/ping/").status_code == 200
    # Never again: the list shows only the prefix.
    again = manager_client.get(PAGE).content.decode()
    assert secret not in again
    assert api_key.prefix in again


def test_list_shows_last_used_and_status(manager_client, manager):
    used = api_key_create(name="Used", created_by=manager)
    api_key_create(name="Unused", created_by=manager)
    ApiClient(used.secret).get("/v1/public/ping/")

    html = manager_client.get(PAGE).content.decode()

    assert "Used" in html and "Unused" in html
    assert "never" in html
    assert html.count("Active") == 2


def test_revoke(manager_client, manager):
    created = api_key_create(name="Shop", created_by=manager)

    response = manager_client.post(f"/settings/api-keys/{created.api_key.pk}/revoke/")

    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert ApiClient(created.secret).get("/v1/public/ping/").status_code == 401
    assert "Revoked" in manager_client.get(PAGE).content.decode()


def test_empty_name_is_refused(manager_client):
    response = manager_client.post("/settings/api-keys/new/", {"name": "  "})

    assert response.status_code == 422
    assert not ApiKey.objects.exists()
    assert "required" in response.content.decode()


@pytest.mark.parametrize("client_fixture", ["viewer_client", "editor_client"])
def test_only_managers_see_and_manage_keys(request, client_fixture, manager):
    client = request.getfixturevalue(client_fixture)
    created = api_key_create(name="Shop", created_by=manager)

    assert client.get(PAGE).status_code == 403
    assert client.post("/settings/api-keys/new/", {"name": "X"}).status_code == 403
    assert client.post(f"/settings/api-keys/{created.api_key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.get().revoked_at is None
    assert "API keys" not in client.get("/").content.decode()


def test_nav_link_for_managers(manager_client):
    assert 'href="/settings/api-keys/"' in manager_client.get("/").content.decode()


def test_anonymous_is_sent_to_login(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_command_prints_the_key_once():
    out, err = StringIO(), StringIO()

    call_command("create_api_key", "Signup form", stdout=out, stderr=err)

    secret = out.getvalue().strip()
    api_key = ApiKey.objects.get()
    assert api_key.name == "Signup form"
    assert api_key.secret_hash == hash_key(secret)
    assert "only this once" in err.getvalue()
    assert ApiClient(secret).get("/v1/public/ping/").json()["data"]["key"] == "Signup form"


def test_command_records_the_creator(manager):
    call_command("create_api_key", "CRM", "--created-by", "manager", stdout=StringIO())

    assert ApiKey.objects.get().created_by == manager


def test_command_refuses_an_unknown_user_and_an_empty_name():
    with pytest.raises(CommandError):
        call_command("create_api_key", "CRM", "--created-by", "ghost", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_key", " ", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_admin_creates_a_key_and_shows_it_once(admin_client_):
    response = admin_client_.post("/admin/contacts/apikey/add/", {"name": "Warehouse"}, follow=True)

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    secret = next(word for m in shown for word in m.split() if word.startswith("chk_"))
    assert api_key.secret_hash == hash_key(secret)
    assert ApiClient(secret).get("/v1/public/ping/").status_code == 200
    change_page = admin_client_.get(f"/admin/contacts/apikey/{api_key.pk}/change/")
    assert secret not in change_page.content.decode()


def test_admin_action_revokes(admin_client_, manager):
    created = api_key_create(name="Shop", created_by=manager)

    admin_client_.post(
        "/admin/contacts/apikey/",
        {"action": "revoke_keys", "_selected_action": [created.api_key.pk]},
    )

    assert ApiKey.objects.get().revoked_at is not None
