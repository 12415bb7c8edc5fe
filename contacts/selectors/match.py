"""The one contact matcher (DESIGN.md rule 2): which contact a user id and a phone mean.

``contact_upsert`` uses it with ``lock=True``; the public API's event endpoint uses it as it
is. ``contacts_import_batch`` applies the same rule set-wise: its rows carry a phone and never
a user id, so "by user id, else by phone" is "by phone", read for the whole batch in one
locking query (``contacts.services.imports``). What a write may then do to the contact's
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
    if by_user and by_phone and by_user.pk != by_phone.pk:
        raise ContactConflict(
            f'user id "{user_id}" belongs to one contact and phone {phone.e164} to another; '
            "nothing was changed",
            field="user_id",
        )
    return by_user or by_phone
