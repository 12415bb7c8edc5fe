"""Reads of the contact list: its state in the URL, the filtered query, a page with its
count, the columns and saved views.

``contact_list`` builds the filtered, sorted queryset; ``match_count`` counts a filtered
list's matches and ``filtered_page`` fetches one page of them, the way that fits how many
there are. ``contacts.pagination.ContactPaginator`` uses them for the list's table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import BooleanField, Count, Func, Q, QuerySet, Window
from django.db.models.sql.where import WhereNode
from django.http import QueryDict

from contacts.fields import TAGS, Field, FieldRegistry
from contacts.filtering import FilterTree, is_filter_param, parse_filter_tree
from contacts.filters import Filter, sort_expression
from contacts.models import Activity, Contact, ListPreference, SavedView
from contacts.selectors.search import search_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

DEFAULT_COLUMNS = ("name", "phone", "email", "tags", "whatsapp_opted", "created_at")
DEFAULT_SORT = "-created_at"
PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50
MAX_SEARCH_LENGTH = 200
# Past this the offset overflows the databases' 64-bit integers; no list has so many pages.
MAX_PAGE = 10**9


# --- The list's state, as it travels in the URL ---------------------------------------------
@dataclass(slots=True)
class ListQuery:
    """Search, filters, sort, page and upload filter: everything the URL carries."""

    search: str = ""
    filters: FilterTree = field(default_factory=FilterTree)
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    upload_job_id: int | None = None
    view_id: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return bool(self.search or self.filters or self.upload_job_id is not None)

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def sort_descending(self) -> bool:
        return self.sort.startswith("-")

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The canonical query parameters; ``changes`` override (None drops a parameter).

        Page 1 is the page without a ``page`` parameter.
        """
        filters: FilterTree = changes.pop("filters", self.filters)
        state: dict[str, Any] = {
            "q": self.search,
            "sort": self.sort if self.sort != DEFAULT_SORT else "",
            "upload": self.upload_job_id,
            "view": self.view_id,
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else None,
            "page": self.page,
        }
        state.update(changes)
        if state["page"] is not None and int(state["page"]) <= 1:
            state["page"] = None
        pairs = [("q", str(state.pop("q")))] if state["q"] else []
        pairs.extend(filters.params())
        pairs.extend((key, str(v)) for key, v in state.items() if v not in (None, ""))
        return pairs

    def querystring(self, **changes: Any) -> str:
        pairs = self.params(**changes)
        return f"?{urlencode(pairs)}" if pairs else ""

    def with_filters(self, filters: FilterTree) -> str:
        """The list's URL with other filters, from its first page."""
        return self.querystring(page=None, filters=filters)

    def saved_query(self) -> dict[str, Any]:
        """What a saved view stores: search, filters (their URL parameters) and sort, not
        the page. Views saved before groups existed hold only ``f``, which reads the same."""
        return {"q": self.search, "f": [], **self.filters.saved(), "sort": self.sort}


def parse_list_query(params: QueryDict, registry: FieldRegistry) -> ListQuery:
    """The list's state from query parameters; bad parts are dropped with a message each."""
    query = ListQuery(search=params.get("q", "").strip()[:MAX_SEARCH_LENGTH])
    query.filters, query.errors = parse_filter_tree(params, registry)
    if "\x00" in query.search:  # no stored text holds one, and PostgreSQL refuses it
        query.errors.append("Search: NUL characters cannot be searched for; they were removed")
        query.search = query.search.replace("\x00", "").strip()
    sort = params.get("sort", "").strip() or DEFAULT_SORT
    sort_field = registry.get(sort.lstrip("-"))
    if sort_field is None or not sort_field.sortable:
        query.errors.append(f'Cannot sort by "{sort.lstrip("-")}"; sorted by newest first')
        sort = DEFAULT_SORT
    query.sort = sort
    query.page = _positive_int(params.get("page"), 1)
    if query.page > MAX_PAGE:
        query.errors.append(f"Page: at most {MAX_PAGE:,}; showing the first page")
        query.page = 1
    per_page = _positive_int(params.get("per_page"), DEFAULT_PER_PAGE)
    query.per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
    upload = params.get("upload", "").strip()
    if upload:
        query.upload_job_id = id_param(upload)
        if query.upload_job_id is None:
            query.errors.append(f'Upload: "{upload}" is not an upload number')
    query.view_id = id_param(params.get("view", "").strip())
    return query


def query_from_saved(saved: dict[str, Any]) -> QueryDict:
    """A saved view's stored query as query parameters."""
    params = QueryDict(mutable=True)
    if saved.get("q"):
        params["q"] = str(saved["q"])
    for name, values in saved.items():
        if is_filter_param(name):
            values = values if isinstance(values, list) else [values]
            params.setlist(name, [str(v) for v in values])
    if saved.get("sort"):
        params["sort"] = str(saved["sort"])
    return params


def id_param(value: str) -> int | None:
    """A database id from request input: ASCII digits within the 64-bit range, else None.

    ``str.isdigit`` alone lets through "²" (``int`` refuses it) and ids no database column
    holds.
    """
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _positive_int(value: str | None, default: int) -> int:
    try:
        number = int(value or default)
    except ValueError:  # also a number with more digits than int() reads
        return default
    return number if number >= 1 else default


# --- The query --------------------------------------------------------------------------------
def contact_list(
    *,
    registry: FieldRegistry,
    search: str = "",
    filters: FilterTree | None = None,
    sort: str = DEFAULT_SORT,
    upload_job_id: int | None = None,
) -> QuerySet[Contact]:
    """Contacts matching ``search`` AND the filter tree, ordered by ``sort`` then by id."""
    queryset = Contact.objects.all()
    if search:
        queryset = queryset.filter(search_q(search))
    if filters:
        queryset = queryset.filter(filters.q())
    if upload_job_id is not None:
        # IN (subquery) is built once from the (upload_job_id, contact) index.
        touched = Activity.objects.filter(upload_job_id=upload_job_id).values("contact_id")
        queryset = queryset.filter(pk__in=touched)
    sort_field = registry.get(sort.lstrip("-"))
    if sort_field is None or not sort_field.sortable:
        sort, sort_field = DEFAULT_SORT, registry["created_at"]
    return sort_contacts(queryset, sort_field, descending=sort.startswith("-"))


def contact_list_for(query: ListQuery, registry: FieldRegistry) -> QuerySet[Contact]:
    return contact_list(
        registry=registry,
        search=query.search,
        filters=query.filters,
        sort=query.sort,
        upload_job_id=query.upload_job_id,
    )


def sort_contacts(
    queryset: QuerySet[Contact], field: Field, *, descending: bool
) -> QuerySet[Contact]:
    """``queryset`` ordered by ``field`` (its sort expression), then by id for a stable page."""
    return queryset.order_by(
        sort_expression(field, descending=descending), "-pk" if descending else "pk"
    )


def match_count(query: ListQuery, queryset: QuerySet[Contact]) -> int:
    """How many contacts a filtered list matches.

    Filters alone (no search, no upload filter) are counted from their parts' ids: a lone
    tag condition from the ``(tag, contact)`` index without reading a contact, and the
    alternatives of an "any" as the union of each one's ids, so that each is read through
    its own index (PostgreSQL cannot combine an index with a tag subquery under OR and
    reads every contact: 0.4 s at 500,000). Anything else is ``COUNT(*)`` over the matches,
    which selects no column, so the databases count from indexes where they can.
    """
    parts = query.filters.alternatives() if query.filters else []
    if query.search or query.upload_job_id is not None or not parts:
        return queryset.order_by().count()
    if len(parts) == 1:
        (part,) = parts
        own = part.own_ids() if isinstance(part, Filter) else None
        return queryset.order_by().count() if own is None else own.distinct().count()
    ids = [
        part.ids() if isinstance(part, Filter) else Contact.objects.filter(part).values("pk")
        for part in parts
    ]
    return ids[0].union(*ids[1:]).count()


# A filtered list with at most this many matches fetches its page by collecting them all.
COLLECT_AT_MOST = 2_000
# On SQLite, a page whose rows are found within this many contacts along the sort's index is
# found by walking that index.
WALK_AT_MOST = 5_000


def filtered_page(
    queryset: QuerySet[Contact], *, offset: int, limit: int, matching: int
) -> list[Contact]:
    """One slice of a filtered list that matches ``matching`` contacts.

    Few matches: they are collected and sorted (``OFFSET`` on the collected rows). Given
    only ``LIMIT``, PostgreSQL may instead walk the sort index over every contact, probing
    each one against the filter, looking for matches that are not there (seconds at
    500,000 contacts). Many matches: the plain ``LIMIT`` query, which finds its page early
    on the sort index (or sorts the top of the matches), instead of collecting every match.
    SQLite does not weigh the sort index against a filter's index; it is told to walk the
    sort index when the page lies near its start (see :func:`walk_sort_index`).
    """
    if offset >= matching:
        return []
    if matching > COLLECT_AT_MOST:
        if connection.vendor == "sqlite":
            total, _ = contact_total()
            if (offset + limit) * total <= WALK_AT_MOST * matching:
                queryset = walk_sort_index(queryset)
        return list(queryset[offset : offset + limit])
    # Filtering on a window count makes Django compute the matches in a subquery: the
    # database collects them once and sorts the page from them.
    collected = queryset.annotate(matching=Window(Count("pk"))).filter(matching__gt=0)
    return list(collected[offset : offset + limit])


class _NotIndexed(Func):
    """SQLite's unary ``+``: the same truth value, which no index can serve."""

    template = "+(%(expressions)s)"
    output_field = BooleanField()


def walk_sort_index(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """``queryset`` with its conditions out of SQLite's reach for indexes.

    SQLite then reads the contacts in the order of the sort's index and stops at the
    page's last row: when matches are a fair share of the contacts (the count says so),
    that is a few thousand rows, where serving the filter from its index first meant
    fetching and sorting every match (at 500,000 contacts, "City is Pune" sorted by
    Score: 16 ms against 165 ms, both on the indexed fields).
    """
    walking = queryset.all()
    walking.query.where = WhereNode([_NotIndexed(walking.query.where)])
    return walking


# Above this many contacts, PostgreSQL's unfiltered total is the planner's estimate.
ESTIMATE_ABOVE = 100_000


def contact_total() -> tuple[int, bool]:
    """How many contacts there are, and whether that is an estimate.

    On PostgreSQL ``COUNT(*)`` visits every row (or index entry): about 40 ms per 500,000
    contacts on an idle machine, several times that under load. Above ``ESTIMATE_ABOVE``
    the statistics' row estimate (kept current by autovacuum) is shown as "about N". SQLite
    counts from its smallest index, which stays well under the page budget.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [Contact._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] >= ESTIMATE_ABOVE:
            return int(row[0]), True
    return Contact.objects.count(), False


# --- Columns and saved views ----------------------------------------------------------------
def list_columns(*, user: AbstractBaseUser, registry: FieldRegistry) -> list[Field]:
    """The fields a user shows in the list, in order (defaults for a new user)."""
    preference = ListPreference.objects.filter(user=user).only("columns").first()
    keys = preference.columns if preference and preference.columns else DEFAULT_COLUMNS
    return columns_from_keys(keys, registry)


def columns_from_keys(keys: Iterable[str], registry: FieldRegistry) -> list[Field]:
    """Known fields for ``keys``, in order, without duplicates (deleted fields drop out)."""
    seen: dict[str, Field] = {}
    for key in keys:
        if isinstance(key, str) and (f := registry.get(key)) is not None:
            seen.setdefault(key, f)
    return list(seen.values()) or [registry[k] for k in DEFAULT_COLUMNS]


def saved_views_for(*, user: AbstractBaseUser) -> list[SavedView]:
    """The user's own views and the ones the team shares, by name."""
    return list(
        SavedView.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


def saved_view_get(*, user: AbstractBaseUser, view_id: int) -> SavedView | None:
    return (
        SavedView.objects.filter(Q(owner=user) | Q(shared=True), pk=view_id)
        .select_related("owner")
        .first()
    )


def for_columns(contacts: QuerySet[Contact], columns: Iterable[Field]) -> QuerySet[Contact]:
    """``contacts`` reading what ``columns`` show: their tags in one more query when Tags is
    one (the tags kind's own prefetch), and no ``traits`` when no custom field is."""
    columns = list(columns)
    for column in columns:
        if column.key == TAGS:
            contacts = contacts.prefetch_related(column.kind.prefetch())
    if all(c.builtin for c in columns):
        contacts = contacts.defer("traits")
    return contacts
