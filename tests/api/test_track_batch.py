"""POST /v1/public/track/users/batch/: many users at once, each as the single call would do."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts import services
from contacts.models import Activity, Attribute, Contact, Tag
from contacts.services import Actor
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

BATCH = "/v1/public/track/users/batch/"
SINGLE = "/v1/public/track/users/"


@pytest.fixture
def no_rate_limit(settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "0"


def test_each_user_gets_its_result_in_order(api):
    response = api.post(
        BATCH,
        {
            "users": [
                {"phoneNumber": "+919967536783", "traits": {"name": "Ann"}, "tags": ["vip"]},
                {"phoneNumber": "+919967536783", "traits": {"name": "Ann B"}},
                {"phoneNumber": "+919967536783", "traits": {"name": "Ann B"}},
                {"userId": "u-2", "traits": {"Age": 41}},
            ]
        },
    )

    assert response.status_code == 200, response.content
    results = response.json()["data"]["results"]
    assert [r["status"] for r in results] == ["created", "updated", "unchanged", "created"]
    assert response.json()["message"] == "2 created, 1 updated, 1 unchanged, 0 refused"
    ann = Contact.objects.get(phone="+919967536783")
    assert (ann.name, ann.version) == ("Ann B", 2)
    assert results[0]["data"]["id"] == ann.pk
    assert list(ann.tags.values_list("name", flat=True)) == ["vip"]
    kinds = list(Activity.objects.filter(contact=ann).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["created", "updated"]
    assert Contact.objects.get(user_id="u-2").traits == {"age": 41}


def test_a_bad_user_refuses_only_itself(api):
    response = api.post(
        BATCH,
        {
            "users": [
                {"phoneNumber": "9967536783"},
                {"userId": ["not", "an", "id"]},
                {"phoneNumber": "+919967536784", "traits": {"email": "nope"}},
                {"phoneNumber": "+919967536785"},
            ]
        },
    )

    assert response.status_code == 200, response.content
    results = response.json()["data"]["results"]
    assert [(r["status"], r["statusCode"], r["field"]) for r in results[:3]] == [
        ("refused", 422, "countryCode"),
        ("refused", 422, "userId"),
        ("refused", 422, "traits.email"),
    ]
    assert results[3]["status"] == "created"
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+919967536785"]


def test_a_conflict_is_the_single_calls_409(api):
    api.track_user({"userId": "a", "phoneNumber": "+919967536783"})
    api.track_user({"userId": "b", "phoneNumber": "+919967536784"})

    response = api.post(BATCH, {"users": [{"userId": "a", "phoneNumber": "+919967536784"}]})

    (result,) = response.json()["data"]["results"]
    single = api.track_user({"userId": "a", "phoneNumber": "+919967536784"})
    assert result == {"status": "refused", "statusCode": 409, **single.json()}
    assert single.status_code == 409


def test_more_than_1000_users_are_refused_whole(api, no_rate_limit):
    response = api.post(BATCH, {"users": [{"userId": str(n)} for n in range(1001)]})

    assert response.status_code == 422
    assert response.json()["field"] == "users"
    assert not Contact.objects.exists()


def test_an_idempotency_key_covers_the_whole_batch(api):
    body = {"users": [{"userId": "a", "tags": ["x"]}, {"userId": "b"}]}

    first = api.post(BATCH, body, **{"Idempotency-Key": "k1"})
    again = api.post(BATCH, body, **{"Idempotency-Key": "k1"})

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Activity.objects.count() == 2


def test_the_rate_limit_counts_users(api, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "5/60"

    assert api.post(BATCH, {"users": [{"userId": str(n)} for n in range(4)]}).status_code == 200
    assert api.post(BATCH, {"users": [{"userId": "x"}, {"userId": "y"}]}).status_code == 429
    assert api.track_user({"userId": "z"}).status_code == 200
    assert api.track_user({"userId": "w"}).status_code == 429


def test_the_schema_describes_the_batch(api):
    schema = api.get("/v1/public/openapi.json").json()

    operation = schema["paths"][BATCH]["post"]
    assert operation["operationId"] == "track_users_batch"
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}


# --- The batch equals the single calls, item by item --------------------------------------
USER_IDS = st.none() | st.sampled_from(["u1", "u2", "u3"])
PHONES = st.none() | st.sampled_from(["9967536783", "+919967536784", "+919967536785", "12"])
TRAIT_VALUES = st.none() | st.sampled_from(["x", "", "a@b.co", "nope", 7, 7.5, True, "2024-01-02"])
TRAITS = st.dictionaries(
    st.sampled_from(["name", "email", "whatsapp_opted", "Age", "Colour", "Seen at"]),
    TRAIT_VALUES,
    max_size=3,
)
PAYLOADS = st.fixed_dictionaries(
    {"userId": USER_IDS, "phoneNumber": PHONES},
    optional={
        "countryCode": st.sampled_from(["+91", "1"]),
        "traits": TRAITS,
        "tags": st.lists(st.sampled_from(["vip", "VIP", "lead", " "]), max_size=2),
    },
)


def _wipe() -> None:
    Contact.objects.all().delete()
    Tag.objects.all().delete()
    Attribute.objects.all().delete()


def _state(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The database and the answers, with contacts named by identity instead of id."""
    name = {c.pk: (c.user_id, c.phone) for c in Contact.objects.all()}
    contacts = sorted(
        str(
            (
                c.user_id,
                c.phone,
                c.country_code,
                c.phone_number,
                c.name,
                c.email,
                c.whatsapp_opted,
                c.opted_at is not None,
                c.opt_in_source,
                c.traits,
                c.version,
                sorted(c.tags.values_list("name", flat=True)),
            )
        )
        for c in Contact.objects.all()
    )
    activity = [
        (name[a.contact_id], a.kind, a.source, a.changes) for a in Activity.objects.order_by("pk")
    ]
    answers = []
    for result in results:
        data = result.get("data")
        # Each single call stamps its own moment, a batch one moment for all its users.
        moment = data and data["optedInAt"] is not None
        answers.append(
            {**result, "data": data and {**data, "id": name[data["id"]], "optedInAt": moment}}
        )
    return {
        "contacts": contacts,
        "activity": sorted(activity, key=lambda entry: str(entry[0])),
        "attributes": sorted(Attribute.objects.values_list("key", "label", "type")),
        "tags": sorted(Tag.objects.values_list("name", flat=True)),
        "answers": answers,
    }


@given(payloads=st.lists(PAYLOADS, min_size=1, max_size=8))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_batch_does_what_the_single_calls_do(api, no_rate_limit, payloads):
    _wipe()
    singles = []
    for payload in payloads:
        response = api.track_user(payload)
        status = response.status_code
        body = response.json()
        outcome = "refused" if status != 200 else _status(body)
        singles.append({"status": outcome, "statusCode": status, **body})
    expected = _state(singles)
    _wipe()

    response = api.post(BATCH, {"users": payloads})

    assert response.status_code == 200, response.content
    assert _state(response.json()["data"]["results"]) == expected


def _status(body: dict[str, Any]) -> str:
    data = body["data"]
    return "created" if data["created"] else "updated" if data["changed"] else "unchanged"


def test_a_merged_phone_or_user_id_reaches_the_survivor_as_the_single_call_does(api):
    survivor = make_contact(name="Asha", phone_number="9700000001")
    other = make_contact(name="Asha R", phone_number="9700000002", user_id="crm-7")
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])

    response = api.post(
        BATCH,
        {
            "users": [
                {"phoneNumber": "+919700000002", "traits": {"city": "Pune"}},
                {"userId": "crm-7", "traits": {"name": "Asha Rao"}},
            ]
        },
    )

    assert response.status_code == 200, response.content
    results = response.json()["data"]["results"]
    assert [r["status"] for r in results] == ["updated", "updated"]
    assert Contact.objects.count() == 1
    survivor.refresh_from_db()
    assert survivor.phone == "+919700000001"
    assert (survivor.name, survivor.traits["city"]) == ("Asha Rao", "Pune")


def test_the_batch_reads_contacts_through_indexes_only(api):
    """Each read of the contacts finds its rows by an index: an ``OR`` of the user ids, the
    phones and the aliases' survivors could make PostgreSQL read every contact."""
    for i in range(5):
        make_contact(phone_number=f"97000000{i:02d}", user_id=f"u-{i}")
    survivor = make_contact(phone_number="9700000090", user_id="u-90")
    merged = make_contact(phone_number="9700000091", user_id="u-91")
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[merged.pk])
    users = [
        {"userId": "u-1", "traits": {"name": "One"}},
        {"phoneNumber": "+919700000002", "traits": {"name": "Two"}},
        {"userId": "u-91", "traits": {"name": "Survivor"}},
        {"userId": "u-new", "phoneNumber": "+919700000050"},
    ]
    with CaptureQueriesContext(connection) as queries:
        response = api.post(BATCH, {"users": users})

    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["data"]["results"]] == [
        *("updated", "updated", "updated", "created")
    ]
    table = Contact._meta.db_table
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]
    assert len(reads) == 3, reads  # ids by user id, ids by phone, the rows locked by id
    for sql in reads:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A few rows would be read whole: leave the planner only index scans
                # (bitmap scans are off for these reads, as select_in plans them), which
                # it can take only where an index matches the condition.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute(f"EXPLAIN {sql}")
                shown = "\n".join(row[0] for row in cursor.fetchall())
                assert "Index Cond" in shown, shown
                assert "Seq Scan" not in shown and "SubPlan" not in shown, shown
                # One index per read: an OR over several columns cannot be one index scan.
                assert "BitmapOr" not in shown, shown
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = [row[-1] for row in cursor.fetchall()]
                assert not any(line.startswith(f"SCAN {table}") for line in plan), plan
