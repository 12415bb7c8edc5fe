from __future__ import annotations

import csv
import io

import pytest

from bulkupload import services
from bulkupload.models import UploadJob
from contacts.models import Activity, Attribute, Contact, FieldType
from tests.factories import AttributeFactory, TagFactory, make_contact

pytestmark = pytest.mark.django_db


def totals(job: UploadJob) -> dict[str, int]:
    return {
        "created": job.rows_created,
        "updated": job.rows_updated,
        "unchanged": job.rows_unchanged,
        "skipped": job.rows_skipped,
        "failed": job.rows_failed,
    }


def report(job: UploadJob) -> list[list[str]]:
    return list(services.error_report_rows(job))


def test_messy_file_imports_and_accounts_for_every_row(make_job, run_job):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(phone_number="9876500001", name="Old name", city="Pune")
    text = (
        "Full Name,Phone Number,Country Code,Email Address,WhatsApp Opted,City,Joined\n"
        "Asha,9876500001,91,asha@example.com,TRUE,,2024-10-31\n"  # update: city kept
        "Ravi,'+919876500002,,ravi@example.com,FALSE,Delhi,2024-10-31T19:30:00.000+05:30\n"
        "Dup Ravi,9876500002,+91,,TRUE,,\n"  # duplicate of the row above
        "Bad,9.87654E+09,91,,,,\n"  # Excel shortened the number
        "Bad date,9876500003,91,,,,31/10/2024\n"
        ",,,,,,\n"
        '"Multi\nline",9876500004,91,bad-email,,,\n'
    )
    job = make_job(text)
    # One bad date among the samples: the suggested type is text; the user picks date/time.
    assert job.column_mapping[6] == {"kind": "new", "label": "Joined", "type": "text"}
    mapping = [*job.column_mapping[:6], {"kind": "new", "label": "Joined", "type": "datetime"}]
    services.upload_job_set_mapping(job=job, mapping=mapping, list_separator=";")
    job = run_job(job)
    assert job.status == UploadJob.Status.COMPLETED
    assert totals(job) == {"created": 1, "updated": 1, "unchanged": 0, "skipped": 2, "failed": 3}
    assert job.done == job.rows_accounted == job.total == 7

    asha = Contact.objects.get(phone="+919876500001")
    assert asha.name == "Asha"
    assert asha.traits == {"city": "Pune", "joined": "2024-10-31"}  # merged, not replaced
    assert asha.whatsapp_opted is True
    ravi = Contact.objects.get(phone="+919876500002")
    assert ravi.name == "Ravi"
    assert ravi.traits["joined"] == "2024-10-31T14:00:00Z"
    assert Attribute.objects.get(key="joined").type == FieldType.DATETIME

    rows = report(job)
    assert rows[0][:3] == ["Row", "Outcome", "Reason"]
    by_row = {r[0]: r for r in rows[1:]}
    assert set(by_row) == {"4", "5", "6", "7", "8"}
    assert "duplicate" in by_row["4"][2] and "row 3" in by_row["4"][2]
    assert "scientific notation" in by_row["5"][2]
    assert by_row["5"][3:] == ["Bad", "9.87654E+09", "91", "", "", "", ""]
    assert "Joined" in by_row["6"][2]
    assert by_row["7"][1] == "skipped"
    assert "Email" in by_row["8"][2] and by_row["8"][3] == "Multi\nline"
    assert not Contact.objects.filter(phone="+919876500004").exists()


def test_activity_for_every_changed_contact_and_none_for_unchanged(make_job, run_job):
    text = "Name,Phone\nA,+919876500011\nB,+919876500012\n"
    first = run_job(make_job(text))
    assert first.rows_created == 2
    assert Activity.objects.filter(upload_job_id=first.pk, kind="created").count() == 2
    again = run_job(make_job(text))
    assert totals(again) == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0, "failed": 0}
    assert not Activity.objects.filter(upload_job_id=again.pk).exists()
    changed = run_job(make_job("Name,Phone\nA2,+919876500011\nB,+919876500012\n"))
    assert (changed.rows_updated, changed.rows_unchanged) == (1, 1)
    (entry,) = Activity.objects.filter(upload_job_id=changed.pk)
    assert entry.changes == {"fields": {"name": ["A", "A2"]}}
    assert entry.source == "upload"


def test_tags_are_added_case_insensitively_and_count_as_a_change(make_job, run_job):
    vip = TagFactory(name="VIP")
    make_contact(phone_number="9876500021", tags=["vip"])
    make_contact(phone_number="9876500022")
    job = run_job(make_job("Phone,Tags\n+919876500021,\n+919876500022,new customer;VIP\n"), [vip])
    assert (job.rows_unchanged, job.rows_updated) == (1, 1)
    second = Contact.objects.get(phone="+919876500022")
    assert sorted(t.name for t in second.tags.all()) == ["VIP", "new customer"]
    (entry,) = Activity.objects.filter(upload_job_id=job.pk)
    assert sorted(entry.changes["tags_added"]) == ["VIP", "new customer"]


def test_duplicates_across_batches_are_reported(make_job, run_job, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    lines = ["Phone,Name"] + [f"+91987650{1000 + i},N{i}" for i in range(5)]
    lines.append("+919876501001,Again")
    job = run_job(make_job("\n".join(lines) + "\n"))
    assert (job.rows_created, job.rows_skipped) == (5, 1)
    assert Contact.objects.get(phone="+919876501001").name == "N1"


def test_error_report_is_csv_with_original_cells(make_job, run_job):
    job = run_job(make_job("Phone;Name\nnot a phone;Zed\n", name="semi.csv"))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(report(job))
    parsed = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert parsed[1][:2] == ["2", "failed"] and parsed[1][3:] == ["not a phone", "Zed"]
