"""The contact page."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from contacts.http import HtmxHttpRequest
from contacts.models import Contact


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def contact_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    return render(request, "contacts/contact_detail.html", {"contact": contact})
