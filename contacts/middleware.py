"""Every page shows date-times in the viewer's zone (the ``tz`` cookie the page script sets)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contacts.field_editor import request_time_zone


class ViewerTimeZoneMiddleware:
    """Activates the viewer's time zone, so that values shown without an explicit zone (the
    list's cells, the admin) read like the contact page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with timezone.override(request_time_zone(request.COOKIES)):
            return self.get_response(request)
