"""The bulk import's shortcuts give exactly what the reference code gives.

Email: :func:`contacts.kinds.email.is_valid_email` against Django's ``EmailValidator``. Planner: the
per-column coercers and :meth:`RowPlanner.plan` against ``Field.parse`` cell by cell.
Phones: the fast path's single prefix pattern against the prefixes one by one.
"""

from __future__ import annotations

import re
import string
from typing import Any

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bulkupload.mapping import RowPlanner, column_coercer
from contacts import phones
from contacts.csv_cells import read_cell
from contacts.fields import BUILTIN_FIELDS, FieldRegistry
from contacts.kinds import CoercionError
from contacts.kinds import email as email_kind
from contacts.models import FieldType

LOCAL_CHARS = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.\"\\ @(),:;<>[]"
DOMAIN_CHARS = string.ascii_letters + string.digits + "-."
UNICODE = "äöüßçéñøł\u0131\u017f\u212aΩжзहि中文\u00a0\u2028\u200b\ufeff"
WHITESPACE = " \t\n\r\x0b\x0c"


def outcome(function: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """A call's result, or its error's class and message, for comparing two paths."""
    try:
        return ("value", function(*args, **kwargs))
    except CoercionError as exc:
        return ("error", (exc.field, exc.problem, str(exc)))


# --- Email ---------------------------------------------------------------------------------

labels = st.one_of(
    st.text(DOMAIN_CHARS, min_size=0, max_size=12),
    st.text(string.ascii_lowercase + string.digits + "-", min_size=60, max_size=66),
    st.text(DOMAIN_CHARS + UNICODE, min_size=1, max_size=10),
    st.just("xn--") | st.just("xn--bcher-kva") | st.just("xn--p1ai") | st.just("-a") | st.just(""),
)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=5).map(".".join),
    st.lists(labels, min_size=1, max_size=3).map(lambda parts: ".".join(parts) + "."),
    st.text("0123456789abcdefABCDEF:.", max_size=45).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["localhost", "LOCALHOST", "[127.0.0.1]", "[::1]", "[1.2.3]", "[IPv6:::1]"]),
    st.text(max_size=20),
)
locals_ = st.one_of(
    st.text(LOCAL_CHARS, max_size=20),
    st.text(string.ascii_letters + "+.", min_size=1, max_size=10),
    st.text(LOCAL_CHARS + UNICODE + WHITESPACE, max_size=12),
    st.text(string.ascii_lowercase, min_size=60, max_size=330),
    st.text(max_size=10).map(lambda inner: f'"{inner}"'),
)
atoms = st.text(
    string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8
)
plain_labels = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
plausible = st.builds(
    lambda local, labels, tld: f"{'.'.join(local)}@{'.'.join(labels)}.{tld}",
    st.lists(atoms, min_size=1, max_size=3),
    st.lists(plain_labels, min_size=1, max_size=3),
    st.text(string.ascii_letters, min_size=1, max_size=4) | st.text(DOMAIN_CHARS, max_size=6),
)
mutated = st.builds(
    lambda address, at, char: address[:at] + char + address[at:],
    plausible,
    st.integers(0, 30),
    st.sampled_from([*UNICODE, *WHITESPACE, ".", "@", "-", '"', "[", "_"]),
)
addresses = st.one_of(
    plausible,
    mutated,
    st.builds(lambda local, domain: f"{local}@{domain}", locals_, domains),
    st.builds(
        lambda pad, local, domain, tail: f"{pad}{local}@{domain}{tail}",
        st.text(WHITESPACE, max_size=2),
        locals_,
        domains,
        st.text(WHITESPACE + "@.", max_size=2),
    ),
    st.text(max_size=40),
    st.text(LOCAL_CHARS + DOMAIN_CHARS, max_size=40),
)

EDGE_CASES = [
    ("asha7@mail.in", True),
    ("a.b+c-d@sub-domain.example.co.uk", True),
    ("A@B.CO", True),
    ("a@b.c", False),
    ("a..b@x.com", False),
    (".a@x.com", False),
    ("a.@x.com", False),
    ("a@-x.com", False),
    ("a@x-.com", False),
    ("a@x.-com", False),
    ("a@x..com", False),
    ("a@x.com.", False),
    ("a@x.c0m", False),
    ("a@x.co-m", True),
    ("a@x.xn--p1ai", True),
    ("a@xn--bcher-kva.ch", True),
    ("a@bücher.ch", True),
    ("ä@x.com", False),
    ("\u017f@example.com", True),
    ("\u212a@example.com", True),
    ("a@localhost", True),
    ("a@[127.0.0.1]", True),
    ("a@[::1]", True),
    ("a@[1.2.3]", False),
    ('"a.b"@x.com', True),
    ('"a b"@x.com', False),
    ("a@b@x.com", False),
    ("@x.com", False),
    ("a@", False),
    ("", False),
    ("a@x.com\n", False),
    (" a@x.com", False),
    ("a@" + "b" * 63 + ".com", True),
    ("a@" + "b" * 64 + ".com", False),
    ("a@x." + "c" * 63, True),
    ("a@x." + "c" * 64, False),
    ("a" * 312 + "@mail.in", True),
    ("a" * 313 + "@mail.in", False),
]


@pytest.mark.parametrize(("value", "valid"), EDGE_CASES)
def test_email_edge_cases(value: str, valid: bool) -> None:
    assert email_kind.email_reference(value) is valid
    assert email_kind.is_valid_email(value) is valid
    if email_kind.is_plain_email(value):
        assert valid


@settings(max_examples=4000, deadline=None)
@given(value=addresses)
@example(value="a@x.com\n")
def test_is_valid_email_agrees_with_django(value: str) -> None:
    reference = email_kind.email_reference(value)
    assert email_kind.is_valid_email(value) is reference
    if email_kind.is_plain_email(value):
        assert reference


def test_plain_email_takes_the_common_case() -> None:
    for value in ["ravi12@mail.in", "first.last+tag@example.com", "x_y-z@a1-b2.example.org"]:
        assert email_kind.is_plain_email(value)
    for value in ["a@localhost", "a@[127.0.0.1]", '"a"@x.com', "a@bücher.ch", "a@x.xn--p1ai"]:
        assert not email_kind.is_plain_email(value)  # decided by EmailValidator


# --- Planner -------------------------------------------------------------------------------

REGISTRY = FieldRegistry([])
cells_text = st.one_of(
    st.text(max_size=30),
    st.text(WHITESPACE + "'=+-@", max_size=4),
    st.builds(
        lambda pad, quote, text: f"{pad}{quote}{text}{pad}",
        st.text(WHITESPACE, max_size=2),
        st.sampled_from(["", "'", "''", "'=", "'\t", "'\r"]),
        st.text(max_size=20),
    ),
    addresses,
    st.text(string.ascii_letters + " ", min_size=250, max_size=260),
)


@settings(max_examples=3000, deadline=None)
@given(
    key=st.sampled_from([f.key for f in BUILTIN_FIELDS if f.key not in ("tags",)]),
    cell=cells_text,
)
def test_column_coercer_agrees_with_field_coerce(key: str, cell: str) -> None:
    target = REGISTRY[key]
    raw = read_cell(cell.strip())
    if raw == "":
        return  # the planner never coerces an empty cell
    fast = outcome(column_coercer(target, ";"), raw)
    assert fast == outcome(target.parse, raw, list_separator=";")


MAPPING = [
    {"kind": "field", "key": "name"},
    {"kind": "field", "key": "phone"},
    {"kind": "field", "key": "country_code"},
    {"kind": "field", "key": "email"},
    {"kind": "field", "key": "whatsapp_opted"},
    {"kind": "field", "key": "tags"},
    {"kind": "new", "label": "City", "type": FieldType.TEXT},
    {"kind": "new", "label": "Orders", "type": FieldType.NUMBER},
    {"kind": "new", "label": "Signed Up", "type": FieldType.DATETIME},
    {"kind": "new", "label": "Interests", "type": FieldType.LIST},
    {"kind": "skip"},
]
row_cells = st.lists(
    st.one_of(
        cells_text,
        st.sampled_from(["9876543210", "+919876543210", "91", "+1", "'+91", "0091 98765 43210"]),
        st.sampled_from(["TRUE", "no", "1,234", "2024-10-31T19:30:00+05:30", "a; b ;a", "x"]),
    ),
    max_size=len(MAPPING) + 1,
)


@settings(max_examples=1500, deadline=None)
@given(rows=st.lists(row_cells, min_size=1, max_size=6), preview=st.booleans())
def test_plan_agrees_with_field_coerce(rows: list[list[str]], preview: bool) -> None:
    planner = RowPlanner(MAPPING, REGISTRY, list_separator=";", for_preview=preview)
    for cells in rows + rows:  # the second pass reads the per-column caches
        assert planned(planner.plan, cells) == planned(planner.plan_reference, cells)


def planned(function: Any, *args: Any) -> Any:
    """A plan, or the ValueError it raised (the same in both)."""
    try:
        return function(*args)
    except ValueError as exc:
        return (type(exc), str(exc))


def test_plan_of_a_typical_row() -> None:
    planner = RowPlanner(MAPPING, REGISTRY)
    cells = ["Asha Iyer", "9876543210", "91", "asha@mail.in", "TRUE", "VIP", "Pune", "4"]
    row = planner.plan([*cells, "2024-10-31", "a;b", "ignored"])
    assert row.errors == []
    assert row.phone is not None and row.phone.e164 == "+919876543210"
    assert row.builtin == {"name": "Asha Iyer", "email": "asha@mail.in", "whatsapp_opted": True}
    assert row.tags == ["VIP"]
    assert row.traits == {
        "city": "Pune",
        "orders": 4,
        "signed_up": "2024-10-31",
        "interests": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("not-an-email", "not a valid email address"),
        ("a" * 250 + "@x.com", "longer than 254 characters"),
    ],
)
def test_plan_refuses_bad_emails_as_before(email: str, problem: str) -> None:
    row = RowPlanner(MAPPING, REGISTRY).plan(["A", "9876543210", "91", email])
    assert row.errors == [f"Email: {problem} (got {email!r})"]
    assert row.cell_errors == {3: problem}


# --- Phones --------------------------------------------------------------------------------

CODES = sorted(
    str(code)
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
    if regions and regions[0] != "001"
)


@settings(max_examples=3000, deadline=None)
@given(code=st.sampled_from(CODES), digits=st.text(alphabet="0123456789", max_size=18))
def test_prefix_pattern_matches_when_one_prefix_does(code: str, digits: str) -> None:
    rules = phones._fast_rules(code)
    if rules is None:
        return
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(phones._region_for(code), None)
    separate = [re.compile(p) for p in phones._prefix_patterns(code, metadata)]
    assert (rules[1].match(digits) is not None) is any(p.match(digits) for p in separate)
