"""The page for a request Django cannot read (400): it says what was wrong with it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, TooManyFieldsSent):
        problem = (
            f"it has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} parameters. A list "
            "address takes a few filter conditions, not hundreds: remove some and try again."
        )
    elif isinstance(exception, TooManyFilesSent):
        problem = f"it sends more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files."
    elif isinstance(exception, RequestDataTooBig):
        size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        problem = f"its form data is larger than {size} MB."
    else:  # Django's other refusals (a bad host header, a damaged form) say nothing useful
        problem = "it is malformed."
    return render(request, "400.html", {"problem": problem}, status=400)
