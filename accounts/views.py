"""The log-in page; django-axes locks out repeated failures (see ``accounts.lockout``)."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

from accounts.lockout import attempt_lock, cool_off, minutes_left


class LockoutAuthenticationForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template's form also carries ``next``
        self.helper.disable_csrf = True  # the surrounding form has its own, or is a GET
        self.helper.layout = Layout(
            "username", "password", Submit("submit", "Log in", css_class="w-100")
        )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = self.request.META.get("REMOTE_ADDR") if self.request else None
        refused: forms.ValidationError | None = None
        with attempt_lock(username=username, address=address):
            try:
                cleaned = super().clean()
            except forms.ValidationError as exc:
                # Raised outside the block: leaving it by an exception would roll back the
                # failure axes has just recorded.
                refused = exc
        if refused is None:
            return cleaned
        # axes' backend refused the log-in before testing the password.
        if getattr(self.request, "axes_locked_out", False):
            self._refuse_locked()
        raise refused

    def _refuse_locked(self) -> None:
        remaining = AxesProxyHandler.get_implementation().lockout_remaining(
            self.request, {"username": self.cleaned_data.get("username")}
        )
        minutes = minutes_left(remaining or cool_off())
        raise forms.ValidationError(
            f"Too many failed log-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            code="throttled",
        )


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs
