"""Who reaches what: every route of the site, walked from the URL configuration.

- an anonymous visitor reaches only the log-in page, the health check, the API's schema and
  docs, and the API itself with a key (401 without);
- every state-changing request of the web pages needs a CSRF token;
- values people typed are shown escaped on every page that shows them.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from contacts.models import Contact
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

PUBLIC = {"accounts/login/", "healthz", "v1/public/docs/", "v1/public/openapi.json"}
EMPTY = {"v1/public/"}  # the API's root holds nothing: 404 for anyone
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    paths = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith("admin/") or "^" in route:
            continue
        paths.append("/" + CONVERTER.sub(lambda m: "1" if m.group(1) == "int" else "name", route))
    return sorted(set(paths))


ROUTES = routes()


def test_the_walk_found_the_site():
    assert len(ROUTES) > 30
    assert "/contacts/1/fields/name/edit/" in ROUTES and "/uploads/1/map/" in ROUTES


@pytest.mark.parametrize("path", ROUTES)
def test_anonymous_reaches_only_public_pages(client: Client, path: str):
    make_contact()
    for method in (client.get, client.post):
        response = method(path)
        if path.lstrip("/") in PUBLIC:
            assert response.status_code in (200, 302, 405), path
        elif path.lstrip("/") in EMPTY:
            assert response.status_code == 404, path
        elif path.startswith("/v1/public/"):
            assert response.status_code in (401, 405), (path, response.status_code)
        else:
            assert response.status_code in (302, 405), (path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), path


@pytest.mark.parametrize("path", [p for p in ROUTES if not p.startswith("/v1/public/")])
def test_state_changing_requests_need_a_csrf_token(superuser, path: str):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    make_contact()
    response = client.post(path, {"name": "x"})
    assert response.status_code in (403, 405), (path, response.status_code)
    assert Contact.objects.filter(name="x").count() == 0


XSS_NAME = "<script>alert(1)</script>"
XSS_TRAIT = '"onmouseover=alert(1) x="'


def test_typed_values_are_escaped_everywhere(admin_client_: Client, superuser):
    AttributeFactory(key="city", label="City")
    contact = make_contact(name=XSS_NAME, city=XSS_TRAIT, tags=["<b>tag</b>"])
    pages = [
        "/",
        "/?q=%3Cscript%3E",
        f"/contacts/{contact.pk}/",
        f"/contacts/{contact.pk}/fields/city/edit/",
        "/admin/contacts/contact/",
        f"/admin/contacts/contact/{contact.pk}/change/",
    ]
    for path in pages:
        html = admin_client_.get(path).content.decode()
        assert XSS_NAME not in html, path
        assert "<b>tag</b>" not in html, path
        assert 'value=""onmouseover' not in html and " onmouseover=alert" not in html, path
    html = admin_client_.get(f"/contacts/{contact.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
