"""Overview fixtures: contacts from every source over several days, tags, fields, uploads."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bulkupload.models import UploadJob, UploadRowProblem
from contacts import services
from contacts.api_keys import api_key_create
from contacts.fields import field_registry
from contacts.models import Activity, Contact, FieldType
from contacts.services import Actor
from overview import snapshots
from overview.models import OverviewSnapshot
from tests.factories import AttributeFactory, UserFactory, make_contact


@pytest.fixture(autouse=True)
def fresh_chart_cache():
    """The uploads' charts are cached between requests: each test starts drawing anew."""
    cache.clear()
    yield
    cache.clear()


REFRESH_TASK = "overview.tasks.refresh_overview_snapshot"


@dataclass(frozen=True)
class TaskQueue:
    capture: Callable[..., AbstractContextManager[list]]

    def commits(self) -> AbstractContextManager[list]:
        """A block whose ``transaction.on_commit`` callbacks (enqueueing) run at its end."""
        return self.capture(execute=True)

    def refreshes(self) -> list[DBTaskResult]:
        """The Overview recounts queued, oldest first."""
        return list(DBTaskResult.objects.filter(task_path=REFRESH_TASK).order_by("enqueued_at"))


@pytest.fixture
def task_queue(settings, django_capture_on_commit_callbacks) -> TaskQueue:
    """Tasks queued in the database as in production, for no worker to run (the test
    settings otherwise run a task at once)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return TaskQueue(django_capture_on_commit_callbacks)


def make_stale(seconds: int = snapshots.SNAPSHOT_TTL + 1) -> None:
    """Make the stored snapshot ``seconds`` older (a test of time, not a write path)."""
    row = OverviewSnapshot.objects.get()
    row.counted_at -= timedelta(seconds=seconds)
    row.save(update_fields=["counted_at"])


def refresh_stored_snapshot() -> snapshots.StoredSnapshot:
    """What the worker's recount does."""
    return snapshots.snapshot_refresh(field_registry())


def days_ago(days: int, hour: int = 10) -> datetime:
    """A moment on the local calendar day ``days`` before today."""
    day = timezone.localdate() - timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def move_created(contact: Contact, when: datetime) -> None:
    """Backdate a contact and its "created" entry (a test of history, not a write path)."""
    Contact.objects.filter(pk=contact.pk).update(created_at=when)
    Activity.objects.filter(contact=contact, kind=Activity.Kind.CREATED).update(created_at=when)


@dataclass
class Book:
    contacts: list[Contact] = field(default_factory=list)
    jobs: list[UploadJob] = field(default_factory=list)


def upload_job(user, name: str, **counts: int) -> UploadJob:
    return UploadJob.objects.create(
        created_by=user,
        original_name=name,
        status=UploadJob.Status.COMPLETED,
        total=sum(counts.values()),
        done=sum(counts.values()),
        **counts,
    )


def fill_book(book: Book, *, scale: int = 1) -> Book:
    """Contacts from web, API, upload, admin and system, on several days, ``scale`` times."""
    user = UserFactory(username=f"maker{scale}")
    AttributeFactory(key="city", label="City")
    AttributeFactory(key="interests", label="Interests", type=FieldType.LIST)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    api_key = api_key_create(name=f"crm {scale}").api_key
    for round_number in range(scale):
        job = upload_job(
            user,
            f"leads-{round_number}.csv",
            **{"rows_created": 2, "rows_updated": 1, "rows_unchanged": 1},
            **{"rows_skipped": 1, "rows_failed": 2},
        )
        problems = [
            ("failed", "Phone: not a valid number (got 'x')"),
            ("failed", "Phone: not a valid number (got 'y'); Email: not a valid email address"),
            ("skipped", "empty row"),
        ]
        UploadRowProblem.objects.bulk_create(
            UploadRowProblem(job=job, row_number=number, kind=kind, reason=reason)
            for number, (kind, reason) in enumerate(problems, start=5)
        )
        book.jobs.append(job)
        upload = Actor.upload(user=user, upload_job_id=job.pk)
        made = [
            make_contact(name="Web today", actor=Actor.web(user), tags=["VIP"], city="Pune"),
            make_contact(name="Api 3 days", actor=Actor.api(api_key), whatsapp_opted=True),
            make_contact(name="Upload 3 days", actor=upload, tags=["VIP", "Lead"], score=4),
            make_contact(name="Upload 10 days", actor=upload, interests=["music"]),
            make_contact(name="Admin 40 days", actor=Actor.admin(user), whatsapp_opted=True),
            make_contact(name="System 89 days", tags=["Lead"], interests=[]),
            make_contact(name="Old", actor=Actor.web(user), city="Delhi", tags=["Old"]),
        ]
        # The upload also updated an older contact.
        services.contact_field_update(
            actor=upload, contact_id=made[-1].pk, field_key="name", value="Old, updated"
        )
        for contact, age in zip(made, (0, 3, 3, 10, 40, 89, 120), strict=True):
            move_created(contact, days_ago(age))
        book.contacts.extend(made)
    return book


@pytest.fixture
def book(db) -> Book:
    return fill_book(Book())


class Links(HTMLParser):
    """Every ``<a href>`` of a page, with its ``data-count`` when it has one."""

    def __init__(self) -> None:
        super().__init__()
        self.counted: list[tuple[str, int]] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])
            if values.get("data-count"):
                self.counted.append((values["href"], int(values["data-count"])))


def page_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


LIST_COUNT_RE = re.compile(r'id="list-count">\s*([\d,]+) (?:matching|contacts?)')


def list_count(html: str) -> int:
    """The number of contacts the contact list says it shows."""
    match = LIST_COUNT_RE.search(html)
    assert match, "the list shows no count"
    return int(match.group(1).replace(",", ""))
