"""Pages for a signed-in person hold contacts' personal data: no cache may keep them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control


class PrivatePagesMiddleware:
    """``Cache-Control: no-store`` on every answer to a signed-in person (pages, fragments,
    the CSV export), so that neither the browser's history cache nor a shared proxy keeps a
    copy after they sign out. One rule here rather than a decorator on each view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.is_empty():
            # No session (the public API's requests, a first visit): nobody is signed in.
            # Asking the user would load it for nothing and mark the answer "Vary: Cookie".
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if response.has_header("Cache-Control"):
                patch_cache_control(response, no_store=True)
            else:
                add_never_cache_headers(response)
        return response
