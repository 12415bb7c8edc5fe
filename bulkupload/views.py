"""The bulk upload wizard."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contacts.http import HtmxHttpRequest


@require_GET
@permission_required("contacts.upload_contacts", raise_exception=True)
def upload_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "bulkupload/upload_list.html", {})
