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

from contacts.errors import ContactConflict
from contacts.models import Contact
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
    by_user = contacts.filter(user_id=user_id).first() if user_id else None
    by_phone = contacts.filter(phone=phone.e164).first() if phone else None
    return pick_match(by_user, by_phone, user_id=user_id, phone=phone)


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
