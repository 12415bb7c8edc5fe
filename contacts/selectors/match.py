"""The one contact matcher (DESIGN.md rule 2): which contact a user id and a phone mean.

``contact_upsert`` uses it with ``lock=True``; the public API's event endpoint uses it as it
is. ``contacts_import_batch`` applies the same rule set-wise: its rows carry a phone and never
a user id, so "by user id, else by phone" is "by phone", read for the whole batch in one
locking query (``contacts.services.imports``). ``contacts_track_batch`` reads the ids of
every contact its items name by user id and by phone (one indexed read per column), locks
those contacts in one query in id order and applies :func:`pick_match` to each item in
order (``contacts.services.track_batch``). What a write may then do to the contact's
identity (fill in a missing phone or user id, never replace one) is the change plan's rule
(``contacts.services.plan``).
"""

from __future__ import annotations

from django.db.models import Q

from contacts.errors import ContactConflict
from contacts.models import Contact, ContactAlias
from contacts.phones import Phone
from contacts.selectors.rows import select_in


def contact_match(
    *, user_id: str | None, phone: Phone | None, lock: bool = False, owners_only: bool = False
) -> Contact | None:
    """The contact ``user_id`` names when known, else the one with ``phone``; None if neither.

    :class:`ContactConflict` (field ``user_id``; nothing is changed) when the user id belongs
    to one contact and the phone to another. ``lock`` locks the rows read until the caller's
    transaction ends (``SELECT ... FOR UPDATE``), so that the caller can write on top.

    One read finds the contacts whose own user id or phone these are (an ``OR`` of two
    indexed columns); only a value no contact owns is looked up among merge aliases, and the
    survivors an alias names are read then. So a contact that exists costs one read and a
    new one two (three when named by both a user id and a phone). (An ``own OR id IN
    (aliases)`` read makes PostgreSQL read every contact.)

    ``owners_only``: when no contact owns either value, None without reading the aliases.
    Only for a caller that then creates the contact with
    ``contacts.services.new_contact.contact_insert_unless_alias`` (whose INSERT checks the
    aliases itself, as a later statement: see the comment at the end) and calls this again
    without ``owners_only`` when that insert is stopped.
    """
    wanted = [(kind, value) for kind, value in _identity(user_id, phone) if value]
    if not wanted:
        return None
    contacts = Contact.objects.select_for_update() if lock else Contact.objects.all()
    owned = Q()
    for kind, value in wanted:
        owned |= Q(**{kind: value})
    found = {c.pk: c for c in contacts.filter(owned).order_by("pk")}
    by_kind = {
        kind: next((c for c in found.values() if getattr(c, kind) == value), None)
        for kind, value in wanted
    }
    unowned = [(kind, value) for kind, value in wanted if by_kind[kind] is None]
    if owners_only and not found:
        return None
    if unowned:
        # The batch writers' alias read, one per kind (a single value each here).
        survivor_ids = {
            kind: survivor
            for kind, value in unowned
            if (survivor := _aliases(kind, [value]).get(value)) is not None
        }
        missing = set(survivor_ids.values()) - found.keys()
        if missing:
            found.update((c.pk, c) for c in contacts.filter(pk__in=missing).order_by("pk"))
        for kind, survivor_id in survivor_ids.items():
            by_kind[kind] = found.get(survivor_id)
    by_user, by_phone = by_kind.get(ContactAlias.Kind.USER_ID), by_kind.get(ContactAlias.Kind.PHONE)
    # A contact the first read waited for (``lock``) and that a merge took away meanwhile is
    # not returned by it; the alias read, a later statement, sees the merge's alias (and so
    # does the guarded INSERT that stands in for it with ``owners_only``).
    return pick_match(by_user, by_phone, user_id=user_id, phone=phone)


def _identity(user_id: str | None, phone: Phone | None) -> list[tuple[str, str | None]]:
    return [
        (ContactAlias.Kind.USER_ID, user_id or None),
        (ContactAlias.Kind.PHONE, phone.e164 if phone else None),
    ]


def pick_match[C](
    by_user: C | None, by_phone: C | None, *, user_id: str | None, phone: Phone | None
) -> C | None:
    """The rule itself, on contacts already found (by the user id and by the phone): the one
    the user id names, else the phone's; :class:`ContactConflict` when they differ.

    Contacts compare with ``==``: model instances by primary key, a batch's rows (dicts of
    their values) by their values, which differ between two contacts (phone, user id).
    """
    if by_user is not None and by_phone is not None and by_user != by_phone:
        raise ContactConflict(
            f'user id "{user_id}" belongs to one contact and phone {phone.e164} to another; '
            "nothing was changed",
            field="user_id",
        )
    return by_user if by_user is not None else by_phone


def contacts_by_phone_alias(phones: list[str]) -> dict[str, int]:
    """The survivors' ids of merged-away ``phones`` (E.164), by phone: the batch writer's
    set-wise form of the alias rule above."""
    return _aliases(ContactAlias.Kind.PHONE, phones)


def contacts_by_user_id_alias(user_ids: list[str]) -> dict[str, int]:
    """The survivors' ids of merged-away ``user_ids``, by user id (set-wise, as above)."""
    return _aliases(ContactAlias.Kind.USER_ID, user_ids)


def _aliases(kind: str, values: list[str]) -> dict[str, int]:
    # Plain SQL: ``filter(value__in=...)`` prepares each of a batch's 1,000 values through
    # the field, which cost about 30 ms a batch, more than the query.
    columns = ("value", "contact_id")
    return dict(select_in(ContactAlias, columns, "value", values, equal={"kind": str(kind)}))


def contact_id_resolve(contact_id: int) -> int | None:
    """The survivor a merged contact's id now means (its page redirects there), if any."""
    rows = ContactAlias.objects.filter(kind=ContactAlias.Kind.CONTACT_ID, value=str(contact_id))
    return rows.values_list("contact_id", flat=True).first()


def own_identity(
    contact: Contact, *, user_id: str | None, phone: Phone | None
) -> tuple[str | None, Phone | None]:
    """``user_id`` and ``phone`` less those that reached ``contact`` as a merge's aliases:
    what the plan may fill in on the contact (an alias is never a new identity for it)."""
    if (
        phone is not None
        and contact.phone != phone.e164
        and _is_alias(contact, "phone", phone.e164)
    ):
        phone = None
    if user_id and contact.user_id != user_id and _is_alias(contact, "user_id", user_id):
        user_id = None
    return user_id, phone


def _is_alias(contact: Contact, kind: str, value: str) -> bool:
    return ContactAlias.objects.filter(contact=contact, kind=kind, value=value).exists()
