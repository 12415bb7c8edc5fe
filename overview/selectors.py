"""Reads for the Overview page: counts that each match one filtered contact list.

Every count is taken with the contact list's own filters (``contacts.filters``), and every
link is the list's own URL for that filter, so a chart's number and the count the list
shows for its link come from one rule.

Cost at 500,000 contacts (see docs/overview.md and docs/performance.md):

- "new in the last N days" and contacts per day read a ``created_at`` range from the
  ``(created_at, id)`` index; the source of each new contact comes from its ``created``
  activity, probed through the ``(contact, created_at, id)`` index: 90 days of contacts, not
  all of them.
- The last uploads are ten rows of ``UploadJob``.
- The whole-table counts (total, opted in, contacts per tag, contacts per custom field) must
  visit every contact or every tag link. They are counted together, in one pass over the
  contacts and one over the tag index, and kept in the cache for ``WHOLE_TABLE_TTL``
  seconds; the page says when they were counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Case, Count, F, FilteredRelation, Q, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.urls import reverse
from django.utils import timezone

from bulkupload.models import UploadJob, UploadRowProblem
from contacts.fields import TAGS, Field, FieldRegistry
from contacts.filters import Filter, build_filter, operator_for
from contacts.models import Activity, Contact, Source, Tag
from contacts.selectors import ListQuery

DAYS = 90
TOP_TAGS = 10
LAST_UPLOADS = 10
WHOLE_TABLE_TTL = 300
WHOLE_TABLE_CACHE_KEY = "overview:whole-table:v1"
# A contact whose "created" activity is missing (rows loaded outside the services).
NOT_RECORDED = "not_recorded"
SOURCES: tuple[tuple[str, str], ...] = (*Source.choices, (NOT_RECORDED, "Not recorded"))


def list_url(*filters: Filter, upload_job_id: int | None = None) -> str:
    """The contact list's canonical URL for these filters."""
    query = ListQuery(filters=list(filters), upload_job_id=upload_job_id)
    return reverse("contacts:list") + query.querystring()


def has_value_filter(field: Field) -> Filter:
    """ "Has a value" in the list's words: ``set``, or ``not_empty`` for list fields."""
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


@dataclass(frozen=True, slots=True)
class WholeTableCounts:
    contacts: int
    opted_in: int
    tags: list[Bar]
    fields: list[Bar]
    field_keys: frozenset[str]
    counted_at: datetime


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


# --- Whole-table counts (cached) ---------------------------------------------------------------
def whole_table_counts(registry: FieldRegistry) -> WholeTableCounts:
    """Total, opted in, top tags and field fill counts, counted at most every few minutes.

    A cache rather than a count table kept current by the services: those counts would have
    to change in every write path (import batches, bulk actions, deletes cascading through tag
    links), while two scans every ``WHOLE_TABLE_TTL`` seconds cost a few hundred ms.
    """
    counts = cache.get(WHOLE_TABLE_CACHE_KEY)
    # A field added or removed since the last count is counted now rather than missing.
    if counts is None or counts.field_keys != frozenset(f.key for f in registry.custom):
        counts = count_whole_table(registry)
        cache.set(WHOLE_TABLE_CACHE_KEY, counts, WHOLE_TABLE_TTL)
    return counts


def count_whole_table(registry: FieldRegistry) -> WholeTableCounts:
    """One pass over the contacts and one over the tag links (no cache)."""
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
    return WholeTableCounts(
        contacts=row["contacts"],
        opted_in=row["opted_in"],
        tags=top_tags(registry),
        fields=fields,
        field_keys=frozenset(flt.field.key for flt in fill_filters),
        counted_at=timezone.now(),
    )


def top_tags(registry: FieldRegistry, limit: int = TOP_TAGS) -> list[Bar]:
    """The tags on most contacts, counted from the ``(tag, contact)`` index."""
    tags = (
        Tag.objects.annotate(contact_count=Count("contacttag"))
        .filter(contact_count__gt=0)
        .order_by("-contact_count", "name_key")[:limit]
    )
    return [
        Bar(tag.name, tag.contact_count, list_url(build_filter(registry[TAGS], "any", [tag.name])))
        for tag in tags
    ]


# --- Live counts --------------------------------------------------------------------------------
def totals(registry: FieldRegistry, whole: WholeTableCounts) -> Totals:
    """The headline numbers; "new" is counted live from the ``created_at`` index."""
    created = registry["created_at"]
    last_7 = build_filter(created, "last_days", ["7"])
    last_30 = build_filter(created, "last_days", ["30"])
    new = Contact.objects.filter(last_30.q()).aggregate(
        new_30=Count("pk"), new_7=Count("pk", filter=last_7.q())
    )
    opted_in = build_filter(registry["whatsapp_opted"], "true", [])
    return Totals(
        contacts=Bar("Contacts", whole.contacts, list_url()),
        new_7_days=Bar("New in the last 7 days", new["new_7"], list_url(last_7)),
        new_30_days=Bar("New in the last 30 days", new["new_30"], list_url(last_30)),
        opted_in=Bar("WhatsApp opted in", whole.opted_in, list_url(opted_in)),
    )


def contacts_per_day(registry: FieldRegistry, days: int = DAYS) -> list[Day]:
    """Contacts created on each of the last ``days`` days (today included), by source.

    A day is a calendar day in the current time zone, as the list's ``created_at`` filter
    reads it. One grouped query over the ``created_at`` range.
    """
    created = registry["created_at"]
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    window = build_filter(created, "between", [first.isoformat(), today.isoformat()])
    rows = (
        Contact.objects.filter(window.q())
        .annotate(
            created_entry=FilteredRelation(
                "activities", condition=Q(activities__kind=Activity.Kind.CREATED)
            )
        )
        .values(day=TruncDate("created_at"), source=F("created_entry__source"))
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        source = row["source"] or NOT_RECORDED
        counts[row["day"]][source] = counts[row["day"]].get(source, 0) + row["count"]
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        on_day = build_filter(created, "between", [day.isoformat(), day.isoformat()])
        result.append(Day(day=day, url=list_url(on_day), by_source=counts.get(day, {})))
    return result


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


def day_totals(days: Sequence[Day]) -> int:
    return sum(day.total for day in days)
