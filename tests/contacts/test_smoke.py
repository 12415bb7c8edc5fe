import pytest

from contacts import services
from contacts.models import Activity, Contact
from contacts.services import Actor
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_upsert_creates_then_merges_and_is_idempotent():
    actor = Actor.system()
    r1 = services.contact_upsert(actor=actor, user_id="u1", phone_number="9967536783",
                                 country_code="+91", values={"name": "Gavin", "dob": "1996-12-01"},
                                 create_attributes=True)
    assert r1.created
    r2 = services.contact_upsert(actor=actor, user_id="u1", values={"dob": "1997-12-01"},
                                 create_attributes=True)
    assert r2.changed and not r2.created
    r3 = services.contact_upsert(actor=actor, user_id="u1", values={"dob": "1997-12-01"},
                                 create_attributes=True)
    assert not r3.changed
    c = Contact.objects.get()
    assert c.traits == {"dob": "1997-12-01"} and c.name == "Gavin"
    assert Activity.objects.count() == 2


def test_home_page_renders(editor_client):
    make_contact(name="Ajmal", phone_number="9876543210")
    r = editor_client.get("/")
    assert r.status_code == 200 and b"Ajmal" in r.content
