"""What a CSV or a tag name holds is shown escaped on every page of the upload wizard."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bulkupload.models import UploadJob
from contacts.models import Attribute, Tag
from contacts.services import ContactInputError, FieldError
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

XSS_NAME = "<script>alert(1)</script>"
XSS_ATTR = '"onmouseover=alert(1) x="'
XSS_FILE = "<svg onload=alert(1)>.csv"
ESCAPED_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_ATTR = "&quot;onmouseover=alert(1) x=&quot;"
ESCAPED_FILE = "&lt;svg onload=alert(1)&gt;.csv"


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


HEADERS = ["Phone Number", "Full Name", XSS_NAME, XSS_ATTR, "Email Address"]
TEXT = csv_text(
    [
        HEADERS,
        ["+919876500001", XSS_NAME, XSS_ATTR, XSS_NAME, XSS_NAME],
        ["+919876500002", XSS_ATTR, XSS_NAME, XSS_ATTR, XSS_ATTR],
        ["+919876500002", XSS_NAME, XSS_NAME, XSS_NAME, ""],
        [XSS_NAME, XSS_ATTR, "", "", ""],
    ]
)


def page(response, *, escaped: tuple[str, ...] = ()) -> str:
    """The response's HTML, checked: no raw payload, and the escaped forms it should show."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert XSS_NAME not in html
    assert '"onmouseover=' not in html
    assert "<svg onload" not in html
    for text in escaped:
        assert text in html, text
    return html


def upload(client: Client, text: str, name: str = XSS_FILE):
    file = SimpleUploadedFile(name, text.encode())
    return client.post(reverse("bulkupload:new"), {"file": file})


def mapping_data(**extra: str) -> dict[str, str]:
    data = {
        "col_0": "field:phone",
        "col_1": "field:name",
        "col_2": "new",
        "col_2_label": XSS_NAME,
        "col_2_type": "text",
        "col_3": "new",
        "col_3_label": XSS_ATTR,
        "col_3_type": "text",
        "col_4": "field:email",
        "list_separator": ";",
    }
    return data | extra


def test_refusal_naming_a_header_is_escaped(editor_client):
    refused = upload(editor_client, f"Phone,{XSS_NAME} 9876543210\n+919876500001,x\n")
    html = page(refused, escaped=(ESCAPED_NAME, ESCAPED_FILE))
    assert "looks like data" in html
    assert not UploadJob.objects.exists()


def test_every_wizard_step_escapes_the_file_and_tags(
    editor_client, django_capture_on_commit_callbacks
):
    default_tag = TagFactory(name=XSS_NAME, is_default=True)
    other_tag = TagFactory(name=XSS_ATTR)

    # Step 1 and 2: the upload leads to the mapping, with headers, samples and new field names.
    response = upload(editor_client, TEXT)
    job = UploadJob.objects.get()
    assert job.headers == HEADERS
    assert response.url == reverse("bulkupload:map", args=[job.pk])
    html = page(editor_client.get(response.url), escaped=(ESCAPED_NAME, ESCAPED_ATTR, ESCAPED_FILE))
    assert f'value="{ESCAPED_ATTR}"' in html  # the new field's name input
    assert f"Import “{ESCAPED_ATTR}” as" in html

    # The live preview: stored values, and raw cells with their problem.
    preview = editor_client.post(
        reverse("bulkupload:map_preview", args=[job.pk]),
        mapping_data(),
        headers={"HX-Request": "true"},
    )
    html = page(preview, escaped=(ESCAPED_NAME, ESCAPED_ATTR))
    assert "upload-cell-error" in html and "<html" not in html

    # A mapping error that names a column.
    refused = editor_client.post(
        reverse("bulkupload:map", args=[job.pk]), mapping_data(col_2="field:email")
    )
    html = page(refused, escaped=(ESCAPED_NAME,))
    assert f"already filled by column “{ESCAPED_NAME}”" in html

    done = editor_client.post(reverse("bulkupload:map", args=[job.pk]), mapping_data())
    assert done.url == reverse("bulkupload:tags", args=[job.pk])

    # Step 3: default tags, the "+ See More" pop-up's search, chips, a new tag.
    html = page(
        editor_client.get(reverse("bulkupload:tags", args=[job.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_FILE),
    )
    assert "See More" in html
    search = reverse("bulkupload:tag_search")
    html = page(editor_client.get(search, {"q": "onmouseover"}), escaped=(ESCAPED_ATTR,))
    assert f'aria-label="Add tag {ESCAPED_ATTR}"' in html
    html = page(editor_client.get(search, {"q": XSS_NAME}), escaped=(ESCAPED_NAME,))
    assert "No tag matches" in html  # the default tag is a checkbox, not a search result
    page(
        editor_client.get(reverse("bulkupload:tag_chip", args=[other_tag.pk])),
        escaped=(ESCAPED_ATTR,),
    )
    created = editor_client.post(reverse("bulkupload:tag_new"), {"name": f"{XSS_NAME} new"})
    page(created, escaped=(f"{ESCAPED_NAME} new",))
    assert Tag.objects.filter(name=f"{XSS_NAME} new").exists()
    chosen = editor_client.post(
        reverse("bulkupload:tags", args=[job.pk]), {"tags": [default_tag.pk, other_tag.pk]}
    )
    assert chosen.url == reverse("bulkupload:review", args=[job.pk])
    page(
        editor_client.get(reverse("bulkupload:tags", args=[job.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_ATTR),
    )

    # Step 4: the review lists columns, new fields and tags.
    html = page(
        editor_client.get(reverse("bulkupload:review", args=[job.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_ATTR, ESCAPED_FILE),
    )
    assert f"New field “{ESCAPED_ATTR}” (text)" in html

    # Step 5: the import runs; the progress page, its polled fragment, the list.
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(reverse("bulkupload:review", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == UploadJob.Status.COMPLETED
    assert (job.rows_created, job.rows_failed) == (1, 3)  # bad emails, bad phone
    job_url = reverse("bulkupload:job", args=[job.pk])
    page(editor_client.get(job_url), escaped=(ESCAPED_FILE,))
    page(editor_client.get(job_url, headers={"HX-Request": "true"}))
    page(editor_client.get(reverse("bulkupload:list")), escaped=(ESCAPED_FILE,))
    page(
        editor_client.get(reverse("contacts:list"), {"upload": job.pk}),
        escaped=(ESCAPED_NAME,),
    )

    # The fields the import created are offered by the next upload's mapping and review.
    assert set(Attribute.objects.values_list("label", flat=True)) >= {XSS_NAME, XSS_ATTR}
    upload(editor_client, TEXT, name="second.csv")
    second = UploadJob.objects.exclude(pk=job.pk).get()
    page(
        editor_client.get(reverse("bulkupload:map", args=[second.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_ATTR),
    )
    page(
        editor_client.get(reverse("bulkupload:review", args=[second.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_ATTR),
    )


def test_failure_message_on_the_job_page_is_escaped(editor_client):
    upload(editor_client, TEXT)
    job = UploadJob.objects.get()
    UploadJob.objects.filter(pk=job.pk).update(
        status=UploadJob.Status.FAILED, error_message=f"bad value {XSS_NAME} {XSS_ATTR}"
    )
    html = page(
        editor_client.get(reverse("bulkupload:job", args=[job.pk])),
        escaped=(ESCAPED_NAME, ESCAPED_ATTR, ESCAPED_FILE),
    )
    assert "The import stopped: bad value" in html


def test_tag_creation_error_is_escaped(editor_client, monkeypatch):
    def refuse(*, name: str) -> Tag:
        raise ContactInputError([FieldError("tags", "Tag", f"{name} is not allowed")])

    monkeypatch.setattr("bulkupload.views.tag_create", refuse)
    response = editor_client.post(reverse("bulkupload:tag_new"), {"name": XSS_ATTR + XSS_NAME})
    assert response["HX-Retarget"] == "#tag-create-error"
    html = page(response, escaped=(ESCAPED_ATTR + ESCAPED_NAME,))
    assert "is not allowed" in html
