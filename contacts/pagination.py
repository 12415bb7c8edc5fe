"""Pages of the contact list's table: Django's ``Paginator`` with the list's count rules.

django-tables2 hands the paginator the table's rows (``BoundRows`` over the sorted
queryset). Counting them the default way costs a ``COUNT(*)`` next to the page's query;
instead:

- filtered list: ``match_count`` first (from the kind's own index for a lone tag
  condition), then ``filtered_page``, which picks the page's query by that count;
- unfiltered list: ``contact_total`` (an index-only count, or on PostgreSQL above
  ``ESTIMATE_ABOVE`` the planner's estimate, shown as "about N"), plus an index walk for
  the page, which beats a window over every contact.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django_tables2.rows import BoundRows

from contacts.models import Contact
from contacts.selectors import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    PER_PAGE_CHOICES,
    ListQuery,
    contact_total,
    filtered_page,
    match_count,
)


class ContactPaginator(Paginator):
    """Pages of the contact table for ``query``; a filtered one is counted by its filters.

    A page past the end is an empty page, not an error, so the list can say so and link to
    the first page. A page size outside ``PER_PAGE_CHOICES`` falls back to the default.
    """

    def __init__(self, object_list: BoundRows, per_page: int, *, query: ListQuery, **kwargs: Any):
        if per_page not in PER_PAGE_CHOICES:
            per_page = DEFAULT_PER_PAGE
        super().__init__(object_list, per_page, **kwargs)
        self.query = query
        self.filtered = query.is_filtered
        self.estimated = False

    @property
    def queryset(self) -> QuerySet[Contact]:
        """The table's filtered queryset, as its columns sorted it."""
        return self.object_list.data.data

    @cached_property
    def count(self) -> int:
        if self.filtered:
            return match_count(self.query, self.queryset)
        total, self.estimated = contact_total()
        return total

    @property
    def count_display(self) -> str:
        return f"about {self.count:,}" if self.estimated else f"{self.count:,}"

    def validate_number(self, number: Any) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer") from exc
        if number > MAX_PAGE:  # its offset would overflow the databases' 64-bit integers
            raise PageNotAnInteger(f"Page: at most {MAX_PAGE:,}")  # the table shows page 1
        return max(number, 1)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        if self.filtered:
            records = filtered_page(
                self.queryset, offset=offset, limit=self.per_page, matching=self.count
            )
        else:
            records = list(self.queryset[offset : offset + self.per_page]) if self.count else []
        rows = BoundRows(records, table=self.object_list.table, pinned_data=None)
        return self._get_page(rows, number, self)
