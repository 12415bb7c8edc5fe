"""``/v1/public/``: the API's endpoints, its docs page, and JSON answers for anything else."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path

from api.docs import api_docs
from api.endpoints import public_api
from api.errors import ApiError, error_response


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark an API view login-exempt and give its 405 answers the API's error shape."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = error_response(
                ApiError(405, "method_not_allowed", f"Use {allowed or 'another method'}")
            )
            if allowed:
                response["Allow"] = allowed
        return response

    return login_not_required(wrapper)


@login_not_required
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(ApiError(404, "not_found", f"No API endpoint at {request.path}"))


api_not_found.csrf_exempt = True  # type: ignore[attr-defined]


def _urlpatterns() -> list[URLPattern | URLResolver]:
    patterns, _, _ = public_api.urls
    for pattern in patterns:
        pattern.callback = _json_errors(pattern.callback)
    return [
        path("docs/", api_docs, name="docs"),
        *patterns,
        re_path(r"^.*$", api_not_found, name="not-found"),
    ]


app_name = "public_api"
urlpatterns = _urlpatterns()
