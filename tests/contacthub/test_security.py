"""Security headers and the no-inline-script rule that the Content Security Policy relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import make_contact

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_pages_send_a_strict_content_security_policy(editor_client: Client):
    contact = make_contact(name="Ajmal")
    for path in ["/", f"/contacts/{contact.pk}/", "/uploads/", "/accounts/login/"]:
        response = editor_client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy, path
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        assert "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_or_event_handlers():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text):
            tag = match.group(0)
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
        if re.search(r"<style\b", text) or re.search(r"\bhx-on", text):
            offenders.append(f"{path.relative_to(ROOT)}: <style> or hx-on")
    assert offenders == []
