"""Per-user list settings: the columns a user shows and the saved views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contacts.models import ListPreference, SavedView

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def list_preference_save(*, user: AbstractBaseUser, columns: Sequence[str]) -> None:
    """Remember the columns (in order) a user shows in the contact list."""
    ListPreference.objects.update_or_create(user=user, defaults={"columns": list(columns)})


def saved_view_save(
    *,
    owner: AbstractBaseUser,
    name: str,
    shared: bool,
    query: Mapping[str, Any],
    columns: Sequence[str],
) -> Any:
    """Save the list's search, filters, sort and columns under a name (replacing the owner's
    view of the same name)."""
    view, _ = SavedView.objects.update_or_create(
        owner=owner,
        name=name,
        defaults={"shared": shared, "query": dict(query), "columns": list(columns)},
    )
    return view


def saved_view_delete(*, owner: AbstractBaseUser, view_id: int) -> bool:
    """Delete one of the owner's saved views; others' views are never touched."""
    deleted, _ = SavedView.objects.filter(owner=owner, pk=view_id).delete()
    return bool(deleted)
