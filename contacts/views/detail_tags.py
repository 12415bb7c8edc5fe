"""The contact page's tag editor: chips with remove buttons and an input with suggestions.

Adding a name that matches an existing tag in any case links that tag; a name that matches
none creates a tag, which needs the ``add_tag`` permission (Editors have it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from contacts import selectors, services
from contacts.detail_forms import TagAddForm
from contacts.http import HtmxHttpRequest
from contacts.models import Contact, Tag, tag_key

TEMPLATE = "contacts/contact_detail.html"
CHANGED_EVENT = "contact-changed"


def tags_context(
    request: HtmxHttpRequest, contact: Contact, *, form: TagAddForm | None = None
) -> dict[str, Any]:
    """What the ``tags`` partial needs; ``contact.tags`` should be prefetched."""
    return {
        "contact": contact,
        "contact_tags": list(contact.tags.all()),
        "can_edit_tags": request.user.has_perm("contacts.change_contact"),
        "tag_form": form or TagAddForm(contact_pk=contact.pk),
    }


def _render_tags(
    request: HtmxHttpRequest, pk: int, *, changed: bool, form: TagAddForm | None = None
) -> HttpResponse:
    contact = selectors.contact_page_contact(pk=pk)
    # After a change the input is empty again and keeps the focus, for the next tag.
    form = form or TagAddForm(contact_pk=pk, focus=True)
    response = render(request, f"{TEMPLATE}#tags", tags_context(request, contact, form=form))
    if changed:
        trigger_client_event(response, CHANGED_EVENT)
    return response


def _exists_or_404(pk: int) -> None:
    if not Contact.objects.filter(pk=pk).exists():
        raise Http404("No such contact")


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def tag_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _exists_or_404(pk)
    form = TagAddForm(request.POST, contact_pk=pk)
    if not form.is_valid():
        return _render_tags(request, pk, changed=False, form=form)
    name = form.cleaned_data["name"]
    exists = Tag.objects.filter(name_key=tag_key(name)).exists()
    if not exists and not request.user.has_perm("contacts.add_tag"):
        raise PermissionDenied
    try:
        added = services.contact_tags_add(
            actor=services.Actor.web(request.user), contact_id=pk, names=[name]
        )
    except services.ContactInputError as exc:
        form.add_error("name", str(exc.errors[0]))
        return _render_tags(request, pk, changed=False, form=form)
    return _render_tags(request, pk, changed=bool(added))


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def tag_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _exists_or_404(pk)
    removed = services.contact_tags_remove(
        actor=services.Actor.web(request.user), contact_id=pk, names=[request.POST.get("name", "")]
    )
    return _render_tags(request, pk, changed=bool(removed))


@require_GET
@permission_required("contacts.change_contact", raise_exception=True)
def tag_suggestions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    query = " ".join(request.GET.get("name", "").split())
    suggestions = selectors.contact_tag_suggestions(contact_id=pk, query=query)
    exact = any(t.name_key == tag_key(query) for t in suggestions)
    context = {
        "contact_pk": pk,
        "query": query,
        "suggestions": suggestions,
        "offer_create": bool(query)
        and not exact
        and request.user.has_perm("contacts.add_tag")
        and not Tag.objects.filter(name_key=tag_key(query)).exists(),
    }
    return render(request, f"{TEMPLATE}#tag-suggestions", context)
