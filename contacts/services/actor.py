"""Who makes a change and through which door: recorded on every activity entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contacts.models import Activity, ApiKey, Contact, Source

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
