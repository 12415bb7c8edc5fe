"""The per-request middlewares: what they do for a signed-in person's pages, and that they
leave a request without cookies (the public API's) alone."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from contacts.api_keys import api_key_create
from contacts.field_editor import TIME_ZONE_COOKIE
from contacts.middleware import ViewerTimeZoneMiddleware
from tests.api.conftest import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_api_answer_is_neither_private_nor_varied_by_cookie():
    response = ApiClient(api_key_create(name="Shop", created_by=None).secret).get(
        "/v1/public/ping/"
    )

    assert response.status_code == 200
    assert not response.has_header("Cache-Control")
    assert not response.has_header("Vary")


def test_the_answer_that_signs_a_person_in_is_private_though_it_came_without_a_session():
    UserFactory(username="ana", groups=["Viewers"])
    response = Client().post("/accounts/login/", {"username": "ana", "password": "pass-word-123"})

    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_a_signed_in_persons_page_is_private(manager_client):
    response = manager_client.get("/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_viewers_zone_is_active_with_the_cookie_and_the_sites_without(rf, settings):
    settings.TIME_ZONE = "UTC"
    seen: list[str] = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    middleware = ViewerTimeZoneMiddleware(view)
    request = rf.get("/")
    request.COOKIES[TIME_ZONE_COOKIE] = "Asia/Kolkata"
    middleware(request)
    middleware(rf.get("/"))

    assert seen == ["Asia/Kolkata", "UTC"]
    assert timezone.get_current_timezone_name() == "UTC"  # nothing left active
