"""Factories for tests. Contacts are made through the services, like every other write."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group, User

from contacts import services
from contacts.models import Attribute, Contact, FieldType, Tag
from contacts.services import Actor


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class AttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attribute
        django_get_or_create = ("key",)

    label = factory.Sequence(lambda n: f"Field {n}")
    key = factory.LazyAttribute(lambda a: a.label.lower().replace(" ", "_"))
    type = FieldType.TEXT


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name_key",)

    name = factory.Sequence(lambda n: f"Tag {n}")
    name_key = factory.LazyAttribute(lambda t: t.name.casefold())


_phone_counter = iter(range(10**6))


def next_phone() -> str:
    """A distinct, possible Indian mobile number (national digits)."""
    return f"98{next(_phone_counter):08d}"


def make_contact(
    *,
    phone_number: str | None = None,
    country_code: str = "91",
    user_id: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    actor: Actor | None = None,
    **values: Any,
) -> Contact:
    """Create a contact through ``contact_create``; keyword values are field keys."""
    if phone_number is None and user_id is None:
        phone_number = next_phone()
    return services.contact_create(
        actor=actor or Actor.system(),
        phone_number=phone_number,
        country_code=country_code if phone_number else None,
        user_id=user_id,
        values=values,
        tags=tags,
    )
