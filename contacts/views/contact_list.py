"""The contact list page."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contacts.http import HtmxHttpRequest
from contacts.models import Contact


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    contacts = Contact.objects.order_by("-created_at", "-id")[:50]
    return render(
        request,
        "contacts/contact_list.html",
        {"contacts": contacts, "total": Contact.objects.count()},
    )
