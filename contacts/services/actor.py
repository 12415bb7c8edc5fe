"""Who makes a change and through which door: recorded on every activity entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from contacts.models import Activity, ApiKey, Contact, Source
from contacts.services.plan import OptIn

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change and through which door; recorded on every activity entry."""

    source: str
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    upload_job_id: int | None = None

    @classmethod
    def web(cls, user: AbstractBaseUser) -> Actor:
        return cls(source=Source.WEB, user=user)

    @classmethod
    def admin(cls, user: AbstractBaseUser) -> Actor:
        return cls(source=Source.ADMIN, user=user)

    @classmethod
    def api(cls, api_key: ApiKey) -> Actor:
        return cls(source=Source.API, api_key=api_key)

    @classmethod
    def upload(cls, *, user: AbstractBaseUser | None, upload_job_id: int) -> Actor:
        return cls(source=Source.UPLOAD, user=user, upload_job_id=upload_job_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(source=Source.SYSTEM)

    @classmethod
    def job_starter(cls, user: AbstractBaseUser | None) -> Actor:
        """Who a background job acts for: the person who started it, else the system."""
        return cls.web(user) if user is not None else cls.system()

    def opt_in_source(self) -> str:
        """Where a change of WhatsApp opted came from, as ``Contact.opt_in_source`` keeps it."""
        user = self.user if self.user is not None and self.user.is_authenticated else None
        if self.upload_job_id is not None:
            by = f" by {user.get_username()}" if user else ""
            return f"Upload #{self.upload_job_id}{by}"
        if self.api_key is not None:
            return f"API key “{self.api_key.name}”"
        if user is not None:
            return f"{Source(self.source).label}: {user.get_username()}"
        return Source(self.source).label

    def opt_in(self) -> OptIn:
        """The stamp a write by this actor leaves when it changes WhatsApp opted."""
        return OptIn(timezone.now(), self.opt_in_source())

    def activity(self, *, contact: Contact, kind: str, changes: dict[str, Any]) -> Activity:
        """An unsaved activity entry by this actor (saved by the caller, often in bulk)."""
        user = self.user if self.user is not None and self.user.is_authenticated else None
        return Activity(
            contact=contact,
            kind=kind,
            source=self.source,
            actor_user=user,
            actor_api_key=self.api_key,
            upload_job_id=self.upload_job_id,
            changes=changes,
        )
