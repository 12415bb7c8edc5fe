from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bulkupload.models import UploadJob
from contacts.models import Attribute, Contact, FieldType
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

TEXT = (
    "Full Name,Phone Number,Country Code,Joined,Shoe Size\n"
    "Asha,9876500001,91,2024-10-31,7\n"
    "Ravi,9876500002,91,soon,9\n"
    "Asha again,9876500001,91,,\n"
)


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_new_columns_get_the_type_the_wizard_suggests(tmp_path):
    out = io.StringIO()
    text = "Phone,Visits,Member,Since,Notes\n9876500001,3,yes,2024-01-02,hi\n9876500002,4,no,,x\n"
    call_command("import_contacts", str(write(tmp_path, text)), "--dry-run", stdout=out)
    output = out.getvalue()
    assert "Visits -> new field 'Visits' (number)" in output
    assert "Member -> new field 'Member' (boolean)" in output
    assert "Since -> new field 'Since' (datetime)" in output
    assert "Notes -> new field 'Notes' (text)" in output


def test_import_prints_totals_and_error_report(tmp_path):
    make_contact(phone_number="9876500002", name="Old")
    out = io.StringIO()
    path = write(tmp_path, TEXT)
    call_command(
        "import_contacts", str(path), "--tag", "Expo", "--map", "Joined=Joined:datetime", stdout=out
    )
    output = out.getvalue()
    assert "created 1, updated 0, unchanged 0, skipped 1, failed 1." in output
    report = Path(output.split("Error report: ")[1].strip())
    assert "expected an ISO date" in report.read_text(encoding="utf-8-sig")
    # The type the column's values suggest, as the upload wizard suggests it.
    assert Attribute.objects.get(key="shoe_size").type == FieldType.NUMBER
    asha = Contact.objects.get(phone="+919876500001")
    assert asha.traits == {"joined": "2024-10-31", "shoe_size": 7}
    assert [t.name for t in asha.tags.all()] == ["Expo"]
    assert UploadJob.objects.get().status == UploadJob.Status.COMPLETED


def test_dry_run_writes_nothing(tmp_path):
    out = io.StringIO()
    call_command("import_contacts", str(write(tmp_path, TEXT)), "--dry-run", stdout=out)
    assert "3 rows; would create 2, update or leave unchanged 0, skip 1, fail 0" in out.getvalue()
    assert not Contact.objects.exists() and not UploadJob.objects.exists()
    assert not Attribute.objects.exists()


def test_refused_file_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match="refused: no column is mapped to the phone"):
        call_command("import_contacts", str(write(tmp_path, "Name,City\nA,B\n")))
    with pytest.raises(CommandError, match="no column 'Nope'"):
        call_command("import_contacts", str(write(tmp_path, TEXT)), "--map", "Nope=skip")
    assert not Contact.objects.exists()


def test_export_from_the_list_then_import_changes_nothing(tmp_path, viewer_client, viewer):
    from contacts.models import Activity, ListPreference

    for key, label, type_ in (
        ("city", "City", FieldType.TEXT),
        ("score", "Score", FieldType.NUMBER),
        ("vip", "VIP", FieldType.BOOLEAN),
        ("renewal", "Renewal", FieldType.DATETIME),
        ("interests", "Interests", FieldType.LIST),
    ):
        Attribute.objects.create(key=key, label=label, type=type_)
    ListPreference.objects.create(
        user=viewer,
        columns=[
            "name",
            "phone",
            "email",
            "whatsapp_opted",
            "tags",
            "city",
            "score",
            "vip",
            "renewal",
            "interests",
            "created_at",
        ],
    )
    make_contact(
        name='=HYPERLINK("x")',
        phone_number="9876543210",
        email="a@example.com",
        whatsapp_opted=True,
        tags=["VIP", "Lead"],
        city="@Pune",
        score=-12.5,
        vip=False,
        renewal="2024-10-31T14:00:00Z",
        interests=["+Cricket", "Music"],
    )
    make_contact(name="Bala", phone_number="9123456780", score=100, renewal="2024-10-31")
    before = {
        c.pk: (c.version, c.traits, c.name, c.email, c.whatsapp_opted)
        for c in Contact.objects.all()
    }
    activities = Activity.objects.count()

    exported = b"".join(viewer_client.get(reverse("contacts:list-export")).streaming_content)
    assert b"'=HYPERLINK" in exported and b"'@Pune" in exported
    path = tmp_path / "export.csv"
    path.write_bytes(exported)
    out = io.StringIO()
    call_command("import_contacts", str(path), stdout=out)

    assert "created 0, updated 0, unchanged 2, skipped 0, failed 0." in out.getvalue()
    after = {
        c.pk: (c.version, c.traits, c.name, c.email, c.whatsapp_opted)
        for c in Contact.objects.all()
    }
    assert after == before
    assert Activity.objects.count() == activities


@pytest.mark.parametrize("target", ["created_at", "Updated", "user id"])
def test_map_refuses_fields_a_file_cannot_set(tmp_path, target):
    path = write(tmp_path, "Name,Phone Number,Country Code,When\nAsha,9876543210,91,2024-01-01\n")
    with pytest.raises(CommandError, match="cannot be set from a file"):
        call_command("import_contacts", str(path), "--map", f"When={target}", stdout=io.StringIO())
    assert not Contact.objects.exists()


def test_the_mapping_service_refuses_them_too(tmp_path, make_job):
    from bulkupload import services

    job = make_job("Phone Number,When\n9876543210,x\n")
    mapping = [{"kind": "field", "key": "phone"}, {"kind": "field", "key": "created_at"}]
    with pytest.raises(ValueError, match="created_at"):
        services.upload_job_set_mapping(job=job, mapping=mapping, list_separator=";")
