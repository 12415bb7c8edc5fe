"""The list's search box: name, email and user id containing the text, or a phone's digits.

Three characters and more are served by the trigram index (``contacts.search_index``):
on PostgreSQL the GIN indexes serve Django's own ``icontains`` / ``contains`` as they are;
on SQLite the conditions read the FTS5 table. A shorter query has no trigram, so it is
answered by reading every contact, and ``Search.note`` says so for the page.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from contacts.models import ContactAlias
from contacts.phones import PhoneError, normalize_phone
from contacts.search_index import FTS_TABLE, MIN_INDEXED_LENGTH, uses_fts

_PHONE_CHARS_RE = re.compile(r"[\s().\-/]")
_PHONE_LIKE_RE = re.compile(r"\+?\d{3,17}")
TEXT_COLUMNS = ("name", "email", "user_id")


@dataclass(frozen=True, slots=True)
class Search:
    """What a search matches, and how it was answered."""

    q: Q
    indexed: bool
    note: str


def search_for(text: str) -> Search:
    """Name, email or user id containing ``text``, or a phone written in any common way.

    Text that looks like a phone number (digits with phone punctuation) searches the phone
    and the user id only: nobody types "98765 43210" looking for a name. On SQLite the
    search index is read here, once (see :func:`_fts_q`).
    """
    text = text.strip()
    if not text:
        return Search(Q(), indexed=True, note="")
    compact = phone_compact(text)
    note = search_note(text)
    # A merged contact's whole user id still finds its survivor.
    merged = _merged_away(ContactAlias.Kind.USER_ID, text)
    if len(text) < MIN_INDEXED_LENGTH:
        return Search(_text_q(text) | merged, indexed=False, note=note)
    if compact is None:
        return Search(_text_q(text) | merged, indexed=True, note=note)
    return Search(_phone_q(text, compact) | merged, indexed=True, note=note)


def search_note(text: str) -> str:
    """How a search for ``text`` is answered, for the page; reads nothing."""
    text = text.strip()
    if not text:
        return ""
    if len(text) < MIN_INDEXED_LENGTH:
        return (
            f"Searched every contact: “{text}” is shorter than {MIN_INDEXED_LENGTH} "
            "characters, too short for the search index, so this search is slower."
        )
    if phone_compact(text) is None:
        return "Searched names, emails and user ids."
    return "Searched phone numbers and user ids (the text looks like a phone number)."


def search_q(search: str) -> Q:
    return search_for(search).q


def phone_compact(text: str) -> str | None:
    """``text`` without phone punctuation when it looks like a phone number, else None."""
    compact = _PHONE_CHARS_RE.sub("", text).lstrip("'")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if _PHONE_LIKE_RE.fullmatch(compact) else None


def _text_q(text: str) -> Q:
    if len(text) >= MIN_INDEXED_LENGTH and uses_fts(connection):
        return _fts_q(f"{{{' '.join(TEXT_COLUMNS)}}} : {fts_string(text)}")
    return Q(name__icontains=text) | Q(email__icontains=text) | Q(user_id__icontains=text)


def _phone_q(text: str, compact: str) -> Q:
    condition = Q()
    with contextlib.suppress(PhoneError):
        e164 = normalize_phone(compact).e164
        # A merged contact's whole phone still finds its survivor.
        condition = Q(phone=e164) | _merged_away(ContactAlias.Kind.PHONE, e164)
    digits = compact.lstrip("+")
    # "098765..." is a national trunk prefix: the stored E.164 has no leading zero.
    digits = digits.lstrip("0") or digits
    if uses_fts(connection) and len(digits) >= MIN_INDEXED_LENGTH:
        match = f"{{user_id}} : {fts_string(text)} OR {{phone}} : {fts_string(digits)}"
        return condition | _fts_q(match)
    return condition | Q(user_id__icontains=text) | Q(phone__contains=digits)


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: whatever it holds is matched as written."""
    return '"' + text.replace('"', '""') + '"'


# Up to this many matches, a search's ids are read from the FTS5 table once, here.
READ_ONCE_AT_MOST = 20_000


def _fts_q(match: str) -> Q:
    """The contacts whose search index row matches ``match`` (FTS5 syntax).

    The match is read once and its ids passed on as one JSON array, when there are at most
    ``READ_ONCE_AT_MOST``: a list page's count and its rows then look them up by id instead
    of each running the match again, which cost most of a search (at 500,000 contacts, 4,936
    matches for "Gita Menon": 11-18 ms for the match, 26 ms for the count and 38 ms for the
    page through the subquery, against 12 ms each by the ids). More matches stay a subquery.
    """
    subquery = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    with connection.cursor() as cursor:
        cursor.execute(f"{subquery} LIMIT %s", [match, READ_ONCE_AT_MOST + 1])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) > READ_ONCE_AT_MOST:
        return Q(pk__in=RawSQL(subquery, [match]))
    return Q(pk__in=RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)]))


def _merged_away(kind: str, value: str) -> Q:
    """The survivor of a merged contact whose whole phone or user id is ``value``.

    Looked up first (one query on the alias index) rather than OR-ed in as a subquery: an
    ``OR id IN (SELECT ...)`` stops PostgreSQL from combining the trigram indexes, and the
    search would read every contact.
    """
    aliases = ContactAlias.objects.filter(kind=kind, value=value)
    survivors = list(aliases.values_list("contact_id", flat=True)[:100])
    return Q(pk__in=survivors) if survivors else Q()
