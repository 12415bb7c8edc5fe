"""The change plan (contacts.services.plan): the write rules, without a database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.errors import ContactConflict
from contacts.phones import Phone
from contacts.services.plan import (
    NO_VALUES,
    UNCHANGED,
    ChangePlan,
    plan_change,
    tags_removed_entry,
)
from contacts.services.planning import PlannedValues

PHONE = Phone(e164="+919876543210", country_code="91", national_number="9876543210")


def stored(**values: Any) -> dict[str, Any]:
    """A stored contact's values, as the services read them."""
    return {
        "user_id": None,
        "phone": PHONE.e164,
        "name": "",
        "email": "",
        "whatsapp_opted": False,
        "traits": {},
        **values,
    }


def incoming(builtin: dict[str, Any] | None = None, **traits: Any) -> PlannedValues:
    return PlannedValues(builtin=builtin or {}, traits=traits)


def test_new_contact_records_phone_user_id_and_the_values_set_and_links_every_tag():
    plan = plan_change(
        None,
        incoming(
            {"name": "Asha", "email": "", "whatsapp_opted": False},
            city="Pune",
            note="",
            gone=None,
        ),
        tags={"vip": "VIP", "new customer": "New Customer"},
        phone=PHONE,
        user_id="ext-1",
    )
    assert plan.creating and plan.changed
    assert plan.columns == {
        "phone": "+919876543210",
        "country_code": "91",
        "phone_number": "9876543210",
        "user_id": "ext-1",
        "name": "Asha",
        "email": "",
        "whatsapp_opted": False,
    }
    assert plan.traits == {"city": "Pune", "note": ""}  # a clear on a new contact is nothing
    assert plan.tags_added == ["VIP", "New Customer"]
    assert plan.activity == {
        "fields": {
            "phone": [None, "+919876543210"],
            "user_id": [None, "ext-1"],
            "name": [None, "Asha"],
            "whatsapp_opted": [None, False],
            "city": [None, "Pune"],
        },
        "tags_added": ["VIP", "New Customer"],
    }
    assert list(plan.activity["fields"])[:2] == ["phone", "user_id"]


def test_update_merges_traits_and_null_clears_one():
    current = stored(name="Asha", traits={"city": "Pune", "score": 5, "vip": True})
    plan = plan_change(current, incoming({"name": "Asha K"}, city="Delhi", vip=None, plan="Gold"))
    assert not plan.creating
    assert plan.columns == {"name": "Asha K"}
    assert plan.traits == {"city": "Delhi", "score": 5, "plan": "Gold"}
    assert plan.activity == {
        "fields": {
            "name": ["Asha", "Asha K"],
            "city": ["Pune", "Delhi"],
            "vip": [True, None],
            "plan": [None, "Gold"],
        }
    }
    assert current["traits"] == {"city": "Pune", "score": 5, "vip": True}  # not mutated


def test_a_trait_whose_json_type_changes_is_a_change():
    plan = plan_change(stored(traits={"score": 5, "flag": True}), incoming(score=5.0, flag=1))
    assert plan.changes == {"score": [5, 5.0], "flag": [True, 1]}


def test_tags_are_add_only_and_case_insensitive():
    current = stored()
    plan = plan_change(
        current,
        NO_VALUES,
        tags={"new customer": "New Customer", "vip": "VIP"},
        current_tag_keys={"new customer", "other"},
    )
    assert plan.tags_added == ["VIP"]
    assert plan.activity == {"fields": {}, "tags_added": ["VIP"]}
    assert plan.columns == {} and plan.traits is None

    same = plan_change(current, NO_VALUES, tags={"vip": "VIP"}, current_tag_keys={"vip"})
    assert same is UNCHANGED


def test_identity_is_filled_in_when_missing_and_never_replaced():
    plan = plan_change(stored(phone=None, user_id="u-1"), NO_VALUES, phone=PHONE, user_id="u-1")
    assert plan.columns == {
        "phone": "+919876543210",
        "country_code": "91",
        "phone_number": "9876543210",
    }
    assert plan.activity == {"fields": {"phone": [None, "+919876543210"]}}

    plan = plan_change(stored(), incoming({"name": "G"}), phone=PHONE, user_id="u-2")
    assert plan.activity == {"fields": {"user_id": [None, "u-2"], "name": ["", "G"]}}


def test_a_different_phone_or_user_id_is_never_written_over():
    other = Phone(e164="+919876500000", country_code="91", national_number="9876500000")
    with pytest.raises(ContactConflict, match="never changed") as info:
        plan_change(stored(user_id="u-1"), NO_VALUES, phone=other, user_id="u-1")
    assert info.value.field == "phone_number"

    with pytest.raises(ContactConflict, match='user id "u-1"') as info:
        plan_change(stored(user_id="u-1"), NO_VALUES, phone=PHONE, user_id="u-2")
    assert info.value.field == "user_id"

    same = plan_change(stored(user_id="u-1"), NO_VALUES, phone=PHONE, user_id="u-1")
    assert same is UNCHANGED


def test_nothing_changed_records_nothing():
    current = stored(name="Asha", traits={"city": "Pune"})
    plan = plan_change(current, incoming({"name": "Asha"}, city="Pune", gone=None))
    assert plan is UNCHANGED
    assert not plan.changed and plan.activity is None
    assert (plan.columns, plan.traits, plan.changes, plan.tags_added) == ({}, None, {}, ())


def test_traits_that_are_not_an_object_count_as_empty():
    plan = plan_change(stored(traits=["odd"]), incoming(city="Goa"))
    assert plan.traits == {"city": "Goa"}
    assert plan.changes == {"city": [None, "Goa"]}


def test_tag_removal_entry_shape():
    assert tags_removed_entry(["VIP"]) == {"fields": {}, "tags_removed": ["VIP"]}


# --- Property: the plan's changes applied to the current values give the merged values ---
TRAIT_KEYS = ["city", "score", "vip", "interests", "renewal"]
texts = st.text(alphabet="abAB ", max_size=3)
trait_values = st.one_of(
    texts,
    st.integers(-3, 3),
    st.integers(-12, 12).map(lambda n: n / 4),  # floats, some integral (5.0), never -0.0
    st.booleans(),
    st.lists(texts, max_size=2),
)
builtins = st.fixed_dictionaries(
    {}, optional={"name": texts, "email": texts, "whatsapp_opted": st.booleans()}
)
tag_keys = st.sets(st.sampled_from(["vip", "gold", "new customer"]), max_size=3)


def canonical(values: dict[str, Any]) -> str:
    """JSON with key order ignored: 5 and 5.0, True and 1 differ, as they do when stored."""
    return json.dumps(values, sort_keys=True)


def applied(current: dict[str, Any], plan: ChangePlan) -> dict[str, Any]:
    """``current`` with the plan's ``changes`` ({key: [old, new]}) applied."""
    result = {key: value for key, value in current.items() if key != "traits"}
    traits = dict(current["traits"])
    for key, (old, new) in plan.changes.items():
        if key in result:
            assert result[key] == old
            result[key] = new
        else:
            assert traits.get(key) == old
            if new is None:
                del traits[key]
            else:
                traits[key] = new
    return {**result, "traits": traits}


@settings(max_examples=1500, deadline=None)
@given(
    current_builtin=st.fixed_dictionaries(
        {"name": texts, "email": texts, "whatsapp_opted": st.booleans()}
    ),
    current_traits=st.dictionaries(st.sampled_from(TRAIT_KEYS), trait_values),
    incoming_builtin=builtins,
    incoming_traits=st.dictionaries(st.sampled_from(TRAIT_KEYS), st.none() | trait_values),
    have_tags=tag_keys,
    add_tags=tag_keys,
)
def test_applying_the_changes_gives_the_merged_values(
    current_builtin, current_traits, incoming_builtin, incoming_traits, have_tags, add_tags
):
    current = stored(**current_builtin, traits=current_traits)
    snapshot = canonical(current)
    tags = {key: key.title() for key in sorted(add_tags)}
    plan = plan_change(
        current,
        incoming(incoming_builtin, **incoming_traits),
        tags=tags,
        current_tag_keys=have_tags,
    )
    merged_traits = {
        key: value
        for key, value in {**current_traits, **incoming_traits}.items()
        if value is not None
    }
    merged = {**current, **incoming_builtin, "traits": merged_traits}

    assert canonical(applied(current, plan)) == canonical(merged)
    # The columns and traits to write say the same as the recorded changes.
    written = {**current, **plan.columns}
    written["traits"] = current_traits if plan.traits is None else plan.traits
    assert canonical(written) == canonical(merged)
    assert list(plan.tags_added) == [name for key, name in tags.items() if key not in have_tags]
    assert canonical(current) == snapshot  # the plan never mutates its input

    changed = canonical(merged) != snapshot or bool(set(add_tags) - have_tags)
    assert plan.changed is changed
    if changed:
        assert plan.activity is not None
        assert plan.activity["fields"] == plan.changes
        assert plan.activity.get("tags_added", []) == plan.tags_added
    else:
        assert plan is UNCHANGED and plan.activity is None


@settings(max_examples=500, deadline=None)
@given(
    incoming_builtin=builtins,
    incoming_traits=st.dictionaries(st.sampled_from(TRAIT_KEYS), st.none() | trait_values),
)
def test_a_new_contact_stores_every_value_given_and_records_those_set(
    incoming_builtin, incoming_traits
):
    plan = plan_change(None, incoming(incoming_builtin, **incoming_traits), phone=PHONE)
    assert plan.creating and plan.changed
    assert {k: plan.columns[k] for k in incoming_builtin} == incoming_builtin
    assert plan.traits == {k: v for k, v in incoming_traits.items() if v is not None}
    given_values = {**incoming_builtin, **incoming_traits}
    assert plan.activity == {
        "fields": {
            "phone": [None, PHONE.e164],
            **{k: [None, v] for k, v in given_values.items() if v not in ("", None)},
        }
    }
