"""Links of the contact list, built from its canonical state rather than raw parameters."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from contacts.selectors import ListQuery

register = template.Library()


@register.simple_tag
def list_href(query: ListQuery, **changes: Any) -> str:
    """The list's URL with ``changes`` to its state, e.g. ``sort=column.order_by_alias.next``.

    ``page=None`` drops the page; other parameters the request happened to carry (the
    "Add filter" inputs of an htmx request) are left out.
    """
    pairs = {key: (str(value) if value is not None else None) for key, value in changes.items()}
    return reverse("contacts:list") + query.querystring(**pairs)
