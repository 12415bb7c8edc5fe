"""A new contact's row, inserted only while no merge has made its phone or user id an alias.

``contact_upsert`` reads, locked, the contacts that own a call's user id and phone
(``contact_match(owners_only=True)``). When none does, the contact is new unless a merge made
one of the values an alias of its survivor. Instead of reading the aliases and then
inserting (two statements), the INSERT checks them itself::

    INSERT INTO contacts_contact (...) SELECT <values>
    WHERE NOT EXISTS (SELECT 1 FROM contacts_contactalias WHERE kind = 'phone' AND value = ...)
      AND NOT EXISTS (... kind = 'user_id' ...)
    RETURNING id

It is a statement after the locked read, so it sees what the separate alias read saw: the
alias of a merge that the locked read waited for (that read then skips the duplicate the
merge deleted). When an alias stops it, nothing is written and the caller matches again with
the matcher's full path (the aliases read, the survivor locked and updated).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import AutoField

from contacts.models import Contact, ContactAlias


def contact_insert_unless_alias(contact: Contact) -> bool:
    """Insert ``contact`` (not saved yet; ``created_at`` and ``updated_at`` set) unless its
    phone or user id is a merge's alias; whether it was inserted (then ``contact.pk`` is set).

    One statement on either database (SQLite 3.35+ and PostgreSQL return the new id). Database
    triggers run as for any insert (SQLite's search index); no Django signal is sent, as none
    is connected to contacts. A unique phone or user id inserted meanwhile by another
    transaction raises ``IntegrityError``, as ``save()`` does.
    """
    meta = Contact._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not isinstance(f, AutoField)]
    values = [f.get_db_prep_save(f.pre_save(contact, True), connection) for f in fields]
    named = [
        (str(kind), value)
        for kind, value in (
            (ContactAlias.Kind.PHONE, contact.phone),
            (ContactAlias.Kind.USER_ID, contact.user_id),
        )
        if value
    ]
    alias_table = quote(ContactAlias._meta.db_table)
    unless = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {alias_table} "
        f"WHERE {quote('kind')} = %s AND {quote('value')} = %s)"
        for _ in named
    )
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} WHERE {unless or '1 = 1'} "
        f"RETURNING {quote(meta.pk.column)}"
    )
    params = [*values, *(part for pair in named for part in pair)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    contact.pk = row[0]
    # What save() leaves on an inserted instance: saved, and where.
    vars(contact._state).update(adding=False, db=connection.alias)
    return True
