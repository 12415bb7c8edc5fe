"""Which contact a user id and a phone point at (DESIGN.md rule 2): read-only.

By user id when it is known, else by phone. The API's event endpoint calls this; the writes
of ``contacts.services`` are to use the same function so that the rule lives once.
"""

from __future__ import annotations

from contacts.models import Contact
from contacts.services.errors import ContactConflict


def contact_match(*, user_id: str | None, phone: str | None) -> Contact | None:
    """The contact with ``user_id``, else the one with the E.164 ``phone``; None for neither.

    :class:`ContactConflict` (field ``user_id``) when the two belong to different contacts.
    """
    by_user = Contact.objects.filter(user_id=user_id).first() if user_id else None
    by_phone = Contact.objects.filter(phone=phone).first() if phone else None
    if by_user and by_phone and by_user.pk != by_phone.pk:
        raise ContactConflict(
            f'user id "{user_id}" belongs to one contact and phone {phone} to another',
            field="user_id",
        )
    return by_user or by_phone
