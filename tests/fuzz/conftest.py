from __future__ import annotations

import pytest

from contacts.models import Contact
from tests.api.conftest import ApiClient, new_key  # noqa: F401 (a fixture used here)
from tests.bulkupload.conftest import make_job, media_root, run_job  # noqa: F401 (fixtures)
from tests.factories import AttributeFactory, make_contact

FIELD_TYPES = {"Age": "number", "VIP": "boolean", "Birthday": "datetime", "Hobbies": "list"}
FIELD_TYPES["Note"] = "text"


@pytest.fixture
def fields(db) -> None:
    """A custom field of every type, so that generated values also meet type mismatches."""
    for label, field_type in FIELD_TYPES.items():
        AttributeFactory(label=label, key=label.lower(), type=field_type)


@pytest.fixture
def known_contact(fields) -> Contact:
    return make_contact(
        user_id="known",
        phone_number="9967536783",
        age=30,
        birthday="2024-10-31T14:00:30Z",
        hobbies=["chess"],
        vip=True,
        note="hello",
        name="Asha",
    )


@pytest.fixture
def api(new_key, settings) -> ApiClient:  # noqa: F811 (new_key is the fixture's value)
    settings.CONTACTHUB_API_RATE_LIMIT = "0"  # hundreds of requests in seconds
    return ApiClient(new_key.secret)
