"""Generated input through the pages: list URLs and the pencil editor of every kind.

Every answer is a page (never a 5xx); every part refused is named in a message; a value the
editor shows, saved untouched, changes nothing.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.test import Client
from hypothesis import given, note
from hypothesis import strategies as st

from contacts import services
from contacts.fields import field_registry
from contacts.filtering import MAX_FILTERS
from contacts.kinds import CoercionError
from contacts.models import Activity, Contact
from contacts.selectors import parse_list_query
from tests.fuzz.strategies import LIST_URLS, TEXTS, TRAIT_VALUES, date_times, fuzz_settings

pytestmark = pytest.mark.django_db

ALERT_RE = re.compile(r'role="alert">(.*?)</div>', re.DOTALL)
# What a list message names when it is not a field: the URL's other parts.
LIST_PARTS = ("sort", "Upload", "Page", "Filters", "field")


def query_string(params: dict[str, Any]) -> str:
    """As a browser would send it: UTF-8, percent-encoded; lone surrogates as their bytes."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{key}={quote(item.encode('utf-8', 'surrogatepass'), safe='')}")
    return "&".join(pairs)


@given(params=LIST_URLS)
@fuzz_settings(80)
def test_list_urls_answer_a_page_that_names_what_was_dropped(known_contact, viewer_client, params):
    qs = query_string(params)
    note(qs[:500])

    response = viewer_client.get(f"/?{qs}")

    if response.status_code == 400:  # past Django's limit on parameters: said so
        assert b"more than 1,000 parameters" in response.content
        return
    assert response.status_code == 200, response.content[:2000]
    query = parse_list_query(QueryDict(qs), field_registry())
    labels = [f.label for f in field_registry()]
    for error in query.errors:
        assert any(name in error for name in (*labels, *LIST_PARTS)), error
    sent = [f for f in QueryDict(qs).getlist("f") if f.strip()]
    refused = [e for e in query.errors if not e.startswith(("Cannot sort", "Upload", "Page"))]
    accounted = len(query.filters) + len(refused) - (len(sent) > MAX_FILTERS)
    assert accounted == min(len(sent), MAX_FILTERS)


EDITABLE = ["age", "vip", "birthday", "hobbies", "note", "name", "email", "user_id"]
EDITABLE += ["whatsapp_opted"]
FORM_VALUES = TEXTS | date_times() | st.sampled_from(["", "on", "true", "0", "1e309", "NaN"])
EDITOR_POSTS = st.fixed_dictionaries(
    {"value": FORM_VALUES | st.lists(FORM_VALUES, max_size=3)},
    optional={
        "value_date": FORM_VALUES,
        "value_time": FORM_VALUES,
        "tz": st.sampled_from(["UTC", "Asia/Kolkata", "Pacific/Kiritimati", "Etc/GMT+12"]) | TEXTS,
        "expected": st.sampled_from(["null", "", "{", "30", '"hello"'])
        | TRAIT_VALUES.map(lambda v: repr(v)),
        "clear": st.sampled_from(["1", ""]),
    },
)


def post_form(client: Client, url: str, data: dict[str, Any]) -> Any:
    """POST ``data`` as a form would (lone surrogates as their UTF-8 bytes)."""
    return client.post(url, query_string(data), content_type="application/x-www-form-urlencoded")


@given(
    key=st.sampled_from(EDITABLE),
    data=EDITOR_POSTS,
    zone=st.sampled_from(["", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati"]),
)
@fuzz_settings(120)
def test_the_pencil_editor_answers_every_post_with_its_row(
    known_contact, editor_client, key, data, zone
):
    editor_client.cookies["tz"] = zone
    label = field_registry()[key].label
    url = f"/contacts/{known_contact.pk}/fields/{key}/edit/"

    response = post_form(editor_client, url, data)

    assert response.status_code == 200, response.content[:2000]
    for alert in ALERT_RE.findall(response.content.decode()):
        text = html.unescape(alert)
        assert label in text or "reload the page" in text, text


@given(value=date_times(), zone=st.sampled_from(["UTC", "Asia/Kolkata", "America/St_Johns"]))
@fuzz_settings(40)
def test_a_date_time_saved_untouched_changes_nothing(known_contact, editor_client, value, zone):
    birthday = field_registry()["birthday"]
    try:
        stored = birthday.parse(value)
    except CoercionError:
        return  # outside the range: the API and the editor refuse it
    contact = services.contact_field_update(
        actor=services.Actor.system(),
        contact_id=known_contact.pk,
        field_key="birthday",
        value=stored,
        expected_value=Contact.objects.get(pk=known_contact.pk).traits.get("birthday"),
        registry=field_registry(),
    )
    shown_date, shown_time, shown_zone = birthday.kind.editor_initial(stored, ZoneInfo(zone))
    editor_client.cookies["tz"] = zone
    activities = Activity.objects.count()
    data = {"value_date": shown_date, "value_time": shown_time, "tz": shown_zone}

    response = post_form(
        editor_client,
        f"/contacts/{contact.pk}/fields/birthday/edit/",
        {**data, "expected": json.dumps(stored)},
    )

    assert response.status_code == 200
    saved = Contact.objects.get(pk=contact.pk)
    assert (saved.traits["birthday"], saved.version) == (stored, contact.version)
    assert Activity.objects.count() == activities
