"""The "New contact" form of the contact list, creating through ``services.contact_create``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from contacts import services
from contacts.fields import field_registry
from contacts.forms import NewContactForm
from contacts.http import HtmxHttpRequest
from contacts.services import Actor, ContactInputError, DuplicateContact

TEMPLATE = "contacts/list_new_contact.html"


@require_http_methods(["GET", "POST"])
@permission_required("contacts.add_contact", raise_exception=True)
def contact_new(request: HtmxHttpRequest) -> HttpResponse:
    registry = field_registry()
    form = NewContactForm(request.POST or None, registry=registry)
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=Actor.web(request.user), registry=registry, **form.service_arguments()
            )
        except DuplicateContact as exc:
            existing = exc.existing
            form.add_error(form.form_field_for(exc.field or ""), exc.message)
        except ContactInputError as exc:
            for error in exc.errors:
                form.add_error(form.form_field_for(error.field), f"{error.label}: {error.message}")
        else:
            messages.success(request, f'Contact "{contact}" created.')
            return redirect(reverse("contacts:detail", args=[contact.pk]))
    status = 422 if request.method == "POST" else 200
    return render(request, TEMPLATE, {"form": form, "existing": existing}, status=status)
