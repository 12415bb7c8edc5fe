"""Reads that pages share, one module per capability, with ``select_related`` /
``prefetch_related`` decided here so that query counts stay constant per page:

- ``listing``: the contact list's state (``ListQuery``), query, page and count, columns and
  saved views;
- ``contact``: the contact page's contact, timeline and tag suggestions;
- ``bulk``: background bulk actions still running;
- ``match``: the one contact matcher (user id, else phone; a conflict when they disagree).
"""

from contacts.selectors.bulk import recent_bulk_actions, running_bulk_actions
from contacts.selectors.contact import (
    TAG_SUGGESTION_LIMIT,
    TIMELINE_PAGE_SIZE,
    contact_page_contact,
    contact_tag_suggestions,
    contact_timeline,
)
from contacts.selectors.listing import (
    DEFAULT_COLUMNS,
    DEFAULT_PER_PAGE,
    DEFAULT_SORT,
    ESTIMATE_ABOVE,
    MAX_PAGE,
    MAX_SEARCH_LENGTH,
    PER_PAGE_CHOICES,
    ListQuery,
    columns_from_keys,
    contact_list,
    contact_list_for,
    contact_total,
    filtered_page,
    for_columns,
    id_param,
    list_columns,
    match_count,
    parse_list_query,
    query_from_saved,
    saved_view_get,
    saved_views_for,
    sort_contacts,
)
from contacts.selectors.match import contact_match
from contacts.selectors.search import Search, search_for, search_note, search_q

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_PER_PAGE",
    "DEFAULT_SORT",
    "ESTIMATE_ABOVE",
    "MAX_PAGE",
    "MAX_SEARCH_LENGTH",
    "PER_PAGE_CHOICES",
    "TAG_SUGGESTION_LIMIT",
    "TIMELINE_PAGE_SIZE",
    "ListQuery",
    "Search",
    "columns_from_keys",
    "contact_list",
    "contact_list_for",
    "contact_match",
    "contact_page_contact",
    "contact_tag_suggestions",
    "contact_timeline",
    "contact_total",
    "filtered_page",
    "for_columns",
    "id_param",
    "list_columns",
    "match_count",
    "parse_list_query",
    "query_from_saved",
    "recent_bulk_actions",
    "running_bulk_actions",
    "saved_view_get",
    "saved_views_for",
    "search_for",
    "search_note",
    "search_q",
    "sort_contacts",
]
