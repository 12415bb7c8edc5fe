"""Login and the three roles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from contacts.models import Contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/uploads/", "/contacts/1/"])
def test_every_page_needs_login(client: Client, path: str):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_public_and_has_the_form(client: Client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_roles_have_growing_permissions(viewer, editor, manager):
    assert viewer.has_perm("contacts.view_contact")
    assert not viewer.has_perm("contacts.change_contact")
    assert not viewer.has_perm("contacts.upload_contacts")
    assert editor.has_perm("contacts.change_contact") and editor.has_perm("contacts.add_attribute")
    assert editor.has_perm("contacts.upload_contacts")
    assert not editor.has_perm("contacts.delete_contact")
    assert manager.has_perm("contacts.delete_contact")
    assert manager.has_perm("contacts.add_apikey")
    assert manager.has_perm("contacts.change_attribute") and manager.has_perm("contacts.delete_tag")


def test_groups_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Viewers", "Editors", "Managers"}


def test_viewer_cannot_reach_bulk_upload(viewer_client: Client):
    assert viewer_client.get("/uploads/").status_code == 403


def test_base_layout_has_local_assets_csrf_header_and_navigation(editor_client: Client):
    html = editor_client.get("/").content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "/static/django-htmx/" in html or "htmx" in html
    assert "hx-headers" in html and "x-csrftoken" in html
    assert "http://" not in html.replace("http://127.0.0.1:8000", "")
    assert "https://" not in html
    assert "Bulk upload" in html and ">Contacts<" in html


def test_seed_demo_is_idempotent_and_prints_credentials(capsys):
    call_command("seed_demo", "--contacts", "25", "--password", "demo-pass-123")
    out = capsys.readouterr().out
    assert "admin    password: demo-pass-123" in out
    first = Contact.objects.count()
    assert first == 25
    assert Contact.objects.filter(phone="+919876543210", name="Ajmal").exists()
    call_command("seed_demo", "--contacts", "25")
    assert Contact.objects.count() == first
    assert "already exist" in capsys.readouterr().out
    assert Client().login(username="admin", password="demo-pass-123")
