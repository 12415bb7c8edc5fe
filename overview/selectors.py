"""Reads for the Overview page: counts that each match one filtered contact list.

Every count is taken with the contact list's own filters (``contacts.filters``), and every
link is the list's own URL for that filter, so a chart's number and the count the list
shows for its link come from one rule.

What costs what at 500,000 contacts (docs/performance.md has the figures):

- Contacts per day read a ``created_at`` range (90 days, not every contact) from the
  ``(created_at, id)`` index, with each contact's source from its ``created`` activity
  through the ``(contact, created_at, id)`` index.
- The last uploads are ten rows of ``UploadJob``, read on every request.
- The total, the opted-in count and the field fill counts need a pass over every contact,
  and the tag counts one over every tag link: hundreds of ms each at this size.

So everything but the uploads is counted together into a :class:`Snapshot` by
:func:`count_snapshot`, in the background worker; ``overview.snapshots`` stores it for every
server process and says why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, FilteredRelation, IntegerField, Q, Value, When
from django.db.models.functions import StrIndex, Substr
from django.urls import reverse
from django.utils import timezone

from bulkupload.models import UploadJob, UploadRowProblem
from contacts.fields import TAGS, Field, FieldRegistry
from contacts.filtering import FilterTree
from contacts.filters import Filter, build_filter, operator_for
from contacts.models import Activity, Contact, ContactTag, Source, Tag
from contacts.selectors import ListQuery

DAYS = 90
TOP_TAGS = 10
LAST_UPLOADS = 10
# A contact whose "created" activity is missing (rows loaded outside the services).
NOT_RECORDED = "not_recorded"
SOURCES: tuple[tuple[str, str], ...] = (*Source.choices, (NOT_RECORDED, "Not recorded"))


def list_url(*filters: Filter, upload_job_id: int | None = None) -> str:
    """The contact list's canonical URL for these filters."""
    query = ListQuery(filters=FilterTree.of(filters), upload_job_id=upload_job_id)
    return reverse("contacts:list") + query.querystring()


def has_value_filter(field: Field) -> Filter:
    """Has a value, in the list's words: ``set``, or ``not_empty`` for list fields."""
    op = "set" if operator_for(field, "set") else "not_empty"
    return build_filter(field, op, [])


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    url: str


@dataclass(frozen=True, slots=True)
class Totals:
    contacts: Bar
    new_7_days: Bar
    new_30_days: Bar
    opted_in: Bar

    @property
    def counts(self) -> list[Bar]:
        return [self.contacts, self.new_7_days, self.new_30_days]

    @property
    def opted_in_percent(self) -> int:
        return round(100 * self.opted_in.count / self.contacts.count) if self.contacts.count else 0


@dataclass(slots=True)
class Day:
    day: date
    url: str
    by_source: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_source.values())

    @property
    def source_counts(self) -> list[int]:
        """Counts in ``SOURCES`` order, for a table row."""
        return [self.by_source.get(key, 0) for key, _ in SOURCES]


@dataclass(frozen=True, slots=True)
class Snapshot:
    totals: Totals
    days: list[Day]
    tags: list[Bar]
    fields: list[Bar]
    field_names: frozenset[tuple[str, str]]
    counted_at: datetime

    @property
    def today(self) -> date:
        return self.days[-1].day

    @property
    def days_total(self) -> int:
        return sum(day.total for day in self.days)


# --- The snapshot -------------------------------------------------------------------------------
def field_names(registry: FieldRegistry) -> frozenset[tuple[str, str]]:
    """The custom fields' keys and labels: a snapshot counted with others is out of date."""
    return frozenset((f.key, f.label) for f in registry.custom)


def count_snapshot(registry: FieldRegistry) -> Snapshot:
    """Five queries: every contact, every tag link (and ten names), 30 and 90 days of new
    contacts."""
    contacts = count_contacts_pass(registry)
    created = registry["created_at"]
    last_7 = build_filter(created, "last_days", ["7"])
    last_30 = build_filter(created, "last_days", ["30"])
    new = Contact.objects.filter(last_30.q()).aggregate(
        new_30=Count("pk"), new_7=Count("pk", filter=last_7.q())
    )
    totals = Totals(
        contacts=Bar("Contacts", contacts.total, list_url()),
        new_7_days=Bar("New in the last 7 days", new["new_7"], list_url(last_7)),
        new_30_days=Bar("New in the last 30 days", new["new_30"], list_url(last_30)),
        opted_in=contacts.opted_in,
    )
    return Snapshot(
        totals=totals,
        days=contacts_per_day(registry),
        tags=top_tags(registry),
        fields=contacts.fields,
        field_names=field_names(registry),
        counted_at=timezone.now(),
    )


@dataclass(frozen=True, slots=True)
class ContactsPass:
    total: int
    opted_in: Bar
    fields: list[Bar]


def count_contacts_pass(registry: FieldRegistry) -> ContactsPass:
    """Total, opted in and each custom field's fill count in one scan of the contacts."""
    opted_in = build_filter(registry["whatsapp_opted"], "true", [])
    fill_filters = [has_value_filter(f) for f in registry.custom]
    aggregates: dict[str, Any] = {
        "contacts": Count("pk"),
        "opted_in": Count("pk", filter=opted_in.q()),
    }
    for index, flt in enumerate(fill_filters):
        aggregates[f"field_{index}"] = Count("pk", filter=flt.q())
    row = Contact.objects.aggregate(**aggregates)
    fields = [
        Bar(flt.field.label, row[f"field_{index}"], list_url(flt))
        for index, flt in enumerate(fill_filters)
    ]
    fields.sort(key=lambda bar: -bar.count)
    return ContactsPass(
        total=row["contacts"],
        opted_in=Bar("WhatsApp opted in", row["opted_in"], list_url(opted_in)),
        fields=fields,
    )


def top_tags(registry: FieldRegistry, limit: int = TOP_TAGS) -> list[Bar]:
    """The tags on most contacts (ties: the older tag first), from the ``(tag, contact)`` index.

    Grouping the links by ``tag_id`` alone reads only that index; joining the tags first
    takes two to three times as long at 750,000 links. Two queries.
    """
    counts = list(
        ContactTag.objects.values_list("tag_id")
        .annotate(contact_count=Count("contact_id"))
        .order_by("-contact_count", "tag_id")[:limit]
    )
    names = dict(Tag.objects.filter(pk__in=[pk for pk, _ in counts]).values_list("pk", "name"))
    return [
        Bar(names[pk], count, list_url(build_filter(registry[TAGS], "any", [names[pk]])))
        for pk, count in counts
        if pk in names
    ]


def contacts_per_day(registry: FieldRegistry, days: int = DAYS) -> list[Day]:
    """Contacts created on each of the last ``days`` days (today included), by source.

    A day is a calendar day in the current time zone, as the list's ``created_at`` filter
    reads it. One grouped query over the ``created_at`` range.
    """
    created = registry["created_at"]
    today = timezone.localdate()
    dates = [today - timedelta(days=days - 1 - offset) for offset in range(days)]
    window = build_filter(created, "between", [dates[0].isoformat(), today.isoformat()])
    rows = (
        Contact.objects.filter(window.q())
        .annotate(
            created_entry=FilteredRelation(
                "activities", condition=Q(activities__kind=Activity.Kind.CREATED)
            )
        )
        .values(day=_day_number(created, dates, 0, days), source=F("created_entry__source"))
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        source = row["source"] or NOT_RECORDED
        counts[row["day"]][source] = counts[row["day"]].get(source, 0) + row["count"]
    return [
        Day(day=day, url=list_url(_on_day(created, day)), by_source=counts.get(index, {}))
        for index, day in enumerate(dates)
    ]


def _on_day(created: Field, day: date) -> Filter:
    return build_filter(created, "between", [day.isoformat(), day.isoformat()])


def _day_number(created: Field, dates: list[date], low: int, high: int) -> Any:
    """Which of ``dates[low:high]`` a contact was created on, as a binary search in SQL.

    "After the day before" is the list's own rule for "from the start of this day", so a
    day holds exactly the contacts its link lists. Seven comparisons a row for 90 days:
    SQLite's ``TruncDate`` calls a Python function per row instead (4x slower at 60,000
    rows).
    """
    if high - low == 1:
        return Value(low)
    middle = (low + high) // 2
    day_before = dates[middle] - timedelta(days=1)
    from_middle = build_filter(created, "after", [day_before.isoformat()])
    return Case(
        When(from_middle.q(), then=_day_number(created, dates, middle, high)),
        default=_day_number(created, dates, low, middle),
        output_field=IntegerField(),
    )


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    job: UploadJob
    url: str  # the contacts it created or updated

    @property
    def touched(self) -> int:
        return self.job.rows_created + self.job.rows_updated


def last_uploads(limit: int = LAST_UPLOADS) -> list[UploadOutcome]:
    """The newest uploads that left the wizard, with their outcome counts."""
    jobs = (
        UploadJob.objects.exclude(status=UploadJob.Status.DRAFT)
        .only(
            "original_name",
            "created_at",
            "status",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_skipped",
            "rows_failed",
        )
        .order_by("-created_at", "-id")[:limit]
    )
    return [UploadOutcome(job, list_url(upload_job_id=job.pk)) for job in jobs]


# --- One upload's problems ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProblemKind:
    kind: str  # UploadRowProblem.Kind
    reason: str  # the field named first in the reason ("Phone"), or the reason itself
    count: int


def upload_problem_kinds(job_id: int) -> list[ProblemKind]:
    """A job's failed and skipped rows grouped by kind and by what the reason names first.

    Reasons read ``"Phone: not a valid number (got '12')"`` (several joined by ``"; "``),
    ``"duplicate: phone ... is already on row 4"`` or ``"empty row"``: the part before the
    first colon groups them without one group per bad value.
    """
    colon = StrIndex("reason", Value(":"))
    reason_head = Case(
        When(colon_at=0, then=Substr("reason", 1, 60)),
        default=Substr("reason", 1, F("colon_at") - 1),
    )
    rows = (
        UploadRowProblem.objects.filter(job_id=job_id)
        .annotate(colon_at=colon)
        .values("kind", head=reason_head)
        .annotate(count=Count("pk"))
        .order_by("-count", "kind", "head")
    )
    return [ProblemKind(row["kind"], row["head"], row["count"]) for row in rows]
