"""Settings > API keys: Managers create keys for the public API (shown once) and revoke them."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_POST

from contacts.api_keys import MAX_NAME_LENGTH, NewApiKey, api_key_create, api_key_revoke
from contacts.http import HtmxHttpRequest
from contacts.models import ApiKey
from contacts.services import ContactInputError


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        help_text="Which system uses it, e.g. Shop or Signup form.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = reverse_lazy("contacts:api-key-new")
        self.helper.form_class = "card card-body mb-4"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            HTML('<h2 class="h5">New key</h2>'),
            Row(
                Column("name", css_class="col-md-6"),
                Column(
                    StrictButton("Create key", type="submit", css_class="btn-primary mt-md-2"),
                    css_class="col-auto pt-md-4",
                ),
                css_class="g-2 align-items-start",
            ),
        )


def _page(
    request: HtmxHttpRequest,
    form: ApiKeyForm,
    *,
    created: NewApiKey | None = None,
    status: int = 200,
) -> HttpResponse:
    keys = ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")
    context = {
        "form": form,
        "keys": keys,
        "created": created,
        "docs_url": reverse("public_api:docs"),
    }
    response = render(request, "contacts/api_keys.html", context, status=status)
    if created is not None:
        response["Cache-Control"] = "no-store"  # the secret must not stay in any cache
    return response


@require_GET
@permission_required("contacts.view_apikey", raise_exception=True)
def api_key_list(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request, ApiKeyForm())


@require_POST
@permission_required("contacts.add_apikey", raise_exception=True)
def api_key_new(request: HtmxHttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        created = api_key_create(name=form.cleaned_data["name"], created_by=request.user)
    except ContactInputError as exc:
        form.add_error("name", exc.message)
        return _page(request, form, status=422)
    # Rendered, not redirected: the secret is shown on this one answer and stored nowhere.
    return _page(request, ApiKeyForm(), created=created)


@require_POST
@permission_required("contacts.change_apikey", raise_exception=True)
def api_key_revoke_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, pk=pk)
    api_key_revoke(api_key_id=api_key.pk)
    messages.success(request, f'API key "{api_key.name}" was revoked.')
    return HttpResponseRedirect(reverse("contacts:api-keys"))
