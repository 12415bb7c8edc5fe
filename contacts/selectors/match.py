"""The one contact matcher (DESIGN.md rule 2): which contact a user id and a phone mean.

``contact_upsert`` uses it with ``lock=True``; the public API's event endpoint uses it as it
is. ``contacts_import_batch`` applies the same rule set-wise: its rows carry a phone and never
a user id, so "by user id, else by phone" is "by phone", read for the whole batch in one
locking query (``contacts.services.imports``). ``contacts_track_batch`` reads every contact
its items name by user id or phone in one locking query and applies :func:`pick_match` to
each item in order (``contacts.services.track_batch``). What a write may then do to the contact's
identity (fill in a missing phone or user id, never replace one) is the change plan's rule
(``contacts.services.plan``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from contacts.errors import ContactConflict
from contacts.models import Contact, ContactAlias
from contacts.phones import Phone


def contact_match(
    *, user_id: str | None, phone: Phone | None, lock: bool = False
) -> Contact | None:
    """The contact ``user_id`` names when known, else the one with ``phone``; None if neither.

    :class:`ContactConflict` (field ``user_id``; nothing is changed) when the user id belongs
    to one contact and the phone to another. ``lock`` locks the rows read until the caller's
    transaction ends (``SELECT ... FOR UPDATE``), so that the caller can write on top.
    """
    contacts = Contact.objects.select_for_update() if lock else Contact.objects.all()
    by_user = _own_or_alias(contacts, ContactAlias.Kind.USER_ID, user_id) if user_id else None
    by_phone = _own_or_alias(contacts, ContactAlias.Kind.PHONE, phone.e164) if phone else None
    found = pick_match(by_user, by_phone, user_id=user_id, phone=phone)
    if found is None and lock and (user_id or phone):
        # The contact this read waited for may have been merged away meanwhile: its row is
        # gone and the alias, committed with the merge, is visible to a new statement only.
        found = _survivor_now(contacts, user_id, phone)
    return found


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


def _survivor_now(
    contacts: QuerySet[Contact], user_id: str | None, phone: Phone | None
) -> Contact | None:
    named = Q(kind=ContactAlias.Kind.USER_ID, value=user_id) if user_id else Q()
    if phone is not None:
        named |= Q(kind=ContactAlias.Kind.PHONE, value=phone.e164)
    survivor_id = ContactAlias.objects.filter(named).values_list("contact_id", flat=True).first()
    return None if survivor_id is None else contacts.filter(pk=survivor_id).first()


def _own_or_alias(contacts: QuerySet[Contact], kind: str, value: str) -> Contact | None:
    """The contact whose own ``kind`` is ``value``, or the survivor a merge gave it to (one
    read: a merged-away value is never a live contact's own).

    The two are read through a ``UNION`` of two index lookups: written as ``own OR id IN
    (aliases)``, PostgreSQL cannot use an index for the OR and reads every contact.
    """
    own = Contact.objects.filter(**{kind: value}).values("pk")
    aliased = ContactAlias.objects.filter(kind=kind, value=value).values("contact_id")
    return contacts.filter(pk__in=own.union(aliased)).first()


def contacts_by_phone_alias(phones: list[str]) -> dict[str, int]:
    """The survivors' ids of merged-away ``phones`` (E.164), by phone: the batch writer's
    set-wise form of the alias rule above."""
    rows = ContactAlias.objects.filter(kind=ContactAlias.Kind.PHONE, value__in=phones)
    return dict(rows.values_list("value", "contact_id"))


def contacts_by_user_id_alias(user_ids: list[str]) -> dict[str, int]:
    """The survivors' ids of merged-away ``user_ids``, by user id (set-wise, as above)."""
    rows = ContactAlias.objects.filter(kind=ContactAlias.Kind.USER_ID, value__in=user_ids)
    return dict(rows.values_list("value", "contact_id"))


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
