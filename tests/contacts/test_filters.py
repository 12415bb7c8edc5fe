"""Every filter operator on built-in columns and custom traits (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.fields import field_registry
from contacts.filtering import FilterTree
from contacts.filters import FilterError, parse_filter
from contacts.kinds.base import KINDS
from contacts.models import Contact, FieldType
from contacts.selectors import contact_list
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    AttributeFactory(key="vip", label="VIP", type=FieldType.BOOLEAN)
    AttributeFactory(key="renewal", label="Renewal", type=FieldType.DATETIME)
    AttributeFactory(key="interests", label="Interests", type=FieldType.LIST)
    asha = make_contact(
        name="Asha Rao",
        phone_number="9876543210",
        email="asha@example.com",
        whatsapp_opted=True,
        city="Pune",
        score=30,
        vip=True,
        renewal="2024-10-31",
        interests=["Cricket", "Music"],
        tags=["VIP"],
    )
    bala = make_contact(
        name="Bala",
        phone_number="9123456780",
        user_id="crm-42",
        city="Mumbai",
        score=5,
        vip=False,
        renewal="2024-11-01T10:00:00Z",
        interests=["music"],
        tags=["VIP", "Lead"],
    )
    chitra = make_contact(name="Chitra", user_id="crm-7", phone_number=None)
    dev = make_contact(
        name="Dev",
        phone_number="9000000001",
        email="dev@sample.org",
        city="pune nagar",
        score=100,
        renewal="2023-01-01",
        interests=[],
        tags=["Lead"],
    )
    old = timezone.now() - timedelta(days=40)
    Contact.objects.filter(pk=dev.pk).update(created_at=old)
    return {"asha": asha, "bala": bala, "chitra": chitra, "dev": dev}


def names(*params: str, sort: str = "name") -> list[str]:
    registry = field_registry()
    filters = FilterTree.of(parse_filter(p, registry) for p in params)
    queryset = contact_list(registry=registry, filters=filters, sort=sort)
    return [c.name for c in queryset]


CASES = [
    # text, built-in column
    ("name:eq:asha rao", ["Asha Rao"]),
    ("name:ne:Asha Rao", ["Bala", "Chitra", "Dev"]),
    ("name:contains:a", ["Asha Rao", "Bala", "Chitra"]),
    ("name:not_contains:a", ["Dev"]),
    ("name:startswith:ch", ["Chitra"]),
    ("email:set", ["Asha Rao", "Dev"]),
    ("email:unset", ["Bala", "Chitra"]),
    ("email:contains:example", ["Asha Rao"]),
    ("user_id:set", ["Bala", "Chitra"]),
    ("user_id:unset", ["Asha Rao", "Dev"]),
    ("user_id:ne:crm-42", ["Asha Rao", "Chitra", "Dev"]),
    ("phone:eq:+91 98765 43210", ["Asha Rao"]),
    ("phone:eq:098765-43210", ["Asha Rao"]),
    ("phone:contains:91234", ["Bala"]),
    ("phone:unset", ["Chitra"]),
    ("country_code:eq:91", ["Asha Rao", "Bala", "Dev"]),
    # text, custom trait
    ("city:eq:pune", ["Asha Rao"]),
    ("city:ne:Pune", ["Bala", "Chitra", "Dev"]),
    ("city:contains:PUNE", ["Asha Rao", "Dev"]),
    ("city:not_contains:pune", ["Bala", "Chitra"]),
    ("city:startswith:mum", ["Bala"]),
    ("city:set", ["Asha Rao", "Bala", "Dev"]),
    ("city:unset", ["Chitra"]),
    # number, custom trait (100 > 30 as numbers, not as text)
    ("score:eq:30", ["Asha Rao"]),
    ("score:eq:30.0", ["Asha Rao"]),
    ("score:ne:30", ["Bala", "Chitra", "Dev"]),
    ("score:gt:30", ["Dev"]),
    ("score:gte:30", ["Asha Rao", "Dev"]),
    ("score:lt:30", ["Bala"]),
    ("score:lte:30", ["Asha Rao", "Bala"]),
    ("score:between:5|30", ["Asha Rao", "Bala"]),
    ("score:between:101|6", ["Asha Rao", "Dev"]),
    ("score:set", ["Asha Rao", "Bala", "Dev"]),
    ("score:unset", ["Chitra"]),
    # boolean: built-in column and custom trait
    ("whatsapp_opted:true", ["Asha Rao"]),
    ("whatsapp_opted:false", ["Bala", "Chitra", "Dev"]),
    ("whatsapp_opted:set", ["Asha Rao", "Bala", "Chitra", "Dev"]),
    ("whatsapp_opted:unset", []),
    ("vip:true", ["Asha Rao"]),
    ("vip:false", ["Bala"]),
    ("vip:set", ["Asha Rao", "Bala"]),
    ("vip:unset", ["Chitra", "Dev"]),
    # datetime, custom trait (date-only and UTC datetimes, compared chronologically)
    ("renewal:before:2024-11-01", ["Asha Rao", "Dev"]),
    ("renewal:after:2024-10-31", ["Bala"]),
    ("renewal:after:2024-11-01T09:00:00Z", ["Bala"]),
    ("renewal:on:2024-11-01", ["Bala"]),
    ("renewal:on:2024-10-31", ["Asha Rao"]),
    ("renewal:between:2024-01-01|2024-11-01", ["Asha Rao", "Bala"]),
    ("renewal:last_days:3650", ["Asha Rao", "Bala", "Dev"]),
    ("renewal:older_days:3650", []),
    ("renewal:set", ["Asha Rao", "Bala", "Dev"]),
    ("renewal:unset", ["Chitra"]),
    # datetime, built-in column
    ("created_at:last_days:7", ["Asha Rao", "Bala", "Chitra"]),
    ("created_at:older_days:7", ["Dev"]),
    ("created_at:before:2000-01-01", []),
    ("created_at:set", ["Asha Rao", "Bala", "Chitra", "Dev"]),
    ("created_at:unset", []),
    # list, custom trait (items compared case-insensitively)
    ("interests:contains:music", ["Asha Rao", "Bala"]),
    ("interests:contains:cricket", ["Asha Rao"]),
    ("interests:not_contains:cricket", ["Bala", "Chitra", "Dev"]),
    ("interests:empty", ["Chitra", "Dev"]),
    ("interests:not_empty", ["Asha Rao", "Bala"]),
    # tags
    ("tags:any:vip|lead", ["Asha Rao", "Bala", "Dev"]),
    ("tags:all:VIP|Lead", ["Bala"]),
    ("tags:none:VIP", ["Chitra", "Dev"]),
    ("tags:any:nobody has this", []),
]


@pytest.mark.parametrize(("param", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter_operator(people, param, expected):
    assert names(param) == expected


def test_every_operator_of_every_type_is_covered():
    covered = {(p.split(":")[0], p.split(":")[1]) for p, _ in CASES}
    type_of = {
        "name": FieldType.TEXT,
        "city": FieldType.TEXT,
        "score": FieldType.NUMBER,
        "vip": FieldType.BOOLEAN,
        "renewal": FieldType.DATETIME,
        "interests": FieldType.LIST,
        "tags": "tags",
    }
    for field_type, kind in KINDS.items():
        keys = {op.key for op in kind.operators}
        tested = {op for key, op in covered if type_of.get(key) == field_type}
        assert keys <= tested, f"{field_type}: untested {keys - tested}"


def test_filters_combine_with_and(people):
    assert names("city:contains:pune", "score:gt:50") == ["Dev"]
    assert names("tags:any:VIP", "whatsapp_opted:false") == ["Bala"]


def test_filter_param_round_trips(people):
    registry = field_registry()
    for param, _ in CASES:
        flt = parse_filter(param, registry)
        again = parse_filter(flt.param, registry)
        assert again == flt


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("score:gt:abc", 'Score: expected a number (got "abc")'),
        ("score:between:1", "Score between: a value is required"),
        ("renewal:on:31/10/2024", "Renewal: expected an ISO date"),
        ("renewal:last_days:-3", "Renewal: expected a whole number of days"),
        ("nosuch:eq:1", 'There is no field "nosuch"'),
        ("score:contains:1", 'Score: "contains" is not an operator'),
        ("tags:any:", "Tags: choose at least one tag"),
        ("name:eq:", "Name is: a value is required"),
    ],
)
def test_bad_filter_value_is_refused_with_a_message(people, param, message):
    with pytest.raises(FilterError) as excinfo:
        parse_filter(param, field_registry())
    assert message in str(excinfo.value)


def test_chip_labels_read_as_sentences(people):
    registry = field_registry()
    assert parse_filter("score:gte:30", registry).label == "Score ≥ 30"
    assert parse_filter("score:between:5|30", registry).label == "Score between 5 and 30"
    assert parse_filter("tags:any:VIP|Lead", registry).label == "Tags has any of VIP, Lead"
    assert parse_filter("email:unset", registry).label == "Email is not set"
    assert parse_filter("created_at:last_days:7", registry).label == "Created in the last 7 days"


def test_sort_by_number_trait_is_numeric_with_missing_last(people):
    assert names(sort="score") == ["Bala", "Asha Rao", "Dev", "Chitra"]
    assert names(sort="-score") == ["Dev", "Asha Rao", "Bala", "Chitra"]


def test_sort_by_datetime_trait_is_chronological(people):
    assert names(sort="renewal") == ["Dev", "Asha Rao", "Bala", "Chitra"]
    assert names(sort="-renewal") == ["Bala", "Asha Rao", "Dev", "Chitra"]


def test_sort_ties_break_on_id(people):
    registry = field_registry()
    ascending = list(contact_list(registry=registry, sort="whatsapp_opted"))
    descending = list(contact_list(registry=registry, sort="-whatsapp_opted"))
    falses = [c.pk for c in ascending if not c.whatsapp_opted]
    assert falses == sorted(falses)
    assert [c.pk for c in descending if not c.whatsapp_opted] == sorted(falses, reverse=True)


@pytest.mark.parametrize(
    "param",
    [
        "score:gt:9223372036854775808",
        "score:between:-99999999999999999999|99999999999999999999",
        "created_at:after:9999-12-31",
        "created_at:on:9999-12-31",
        "signup:after:9999-12-31",
    ],
)
def test_extreme_filter_values_filter_instead_of_failing(editor_client, param):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    AttributeFactory(key="signup", label="Signup", type=FieldType.DATETIME)
    make_contact(score=5, signup="2024-10-31")
    response = editor_client.get("/", {"f": param})
    assert response.status_code == 200


@pytest.mark.parametrize("param", ["created_at:last_days:99999999999", "signup:older_days:-1"])
def test_out_of_range_day_counts_are_refused_with_a_message(editor_client, param):
    AttributeFactory(key="signup", label="Signup", type=FieldType.DATETIME)
    response = editor_client.get("/", {"f": param})
    assert response.status_code == 200
    assert b"whole number of days" in response.content
