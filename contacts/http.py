"""Request typing shared by the views."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through HtmxMiddleware and LoginRequiredMiddleware."""

    htmx: HtmxDetails
    user: User
