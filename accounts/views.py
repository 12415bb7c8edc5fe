"""The log-in page, with throttling of repeated failures."""

from __future__ import annotations

import math
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

from accounts import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template's form also carries ``next``
        self.helper.layout = Layout(
            "username", "password", Submit("submit", "Log in", css_class="w-100")
        )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = self.request.META.get("REMOTE_ADDR") if self.request else None
        remaining = throttle.lockout_remaining(username=username, address=address)
        if remaining is not None:
            minutes = max(1, math.ceil(remaining.total_seconds() / 60))
            raise forms.ValidationError(
                f"Too many failed log-ins. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username=username, address=address)
            raise
        throttle.clear_failures(username=username)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs
