"""Writes that look a row up and then insert it, retried when a concurrent insert wins."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction

logger = logging.getLogger(__name__)


def retry_on_integrity_error[T](write: Callable[[], T], *, what: str, attempts: int = 3) -> T:
    """``write()`` in its own transaction (a savepoint inside the caller's), run again when it
    hits a unique constraint; the last failure is raised.

    Another transaction may insert the same contact (phone, user id) or tag link between our
    lookup and our insert. Its row is committed by the time our insert fails, so the next
    attempt finds it and updates it instead.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return write()
        except IntegrityError:
            if attempt == attempts:
                raise
            logger.info("%s retried after a concurrent insert", what)
    raise AssertionError("attempts must be at least 1")
