"""Tags: names compared without case, created race-safely, linked add-only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from contacts.errors import ContactInputError, FieldError
from contacts.fields import TAGS
from contacts.models import Contact, ContactTag, Tag, tag_key

MAX_TAG_LENGTH = 100


def clean_tag_names(names: Iterable[str], errors: list[FieldError]) -> list[str]:
    """Trimmed, de-duplicated case-insensitively, in the order given."""
    cleaned: dict[str, str] = {}
    for raw in names:
        if not isinstance(raw, str):
            errors.append(FieldError(TAGS, "Tags", f"{raw!r} is not text"))
            continue
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            errors.append(
                FieldError(TAGS, "Tags", f'"{name[:30]}..." is longer than {MAX_TAG_LENGTH}')
            )
            continue
        cleaned.setdefault(tag_key(name), name)
    return list(cleaned.values())


def tags_get_or_create(*, names: Iterable[str]) -> list[Tag]:
    """The tags with these names (case-insensitive), creating the missing ones.

    Safe under concurrency: creation uses INSERT ... ON CONFLICT DO NOTHING, then reads back.
    """
    errors: list[FieldError] = []
    cleaned = clean_tag_names(names, errors)
    if errors:
        raise ContactInputError(errors)
    if not cleaned:
        return []
    by_key = {tag_key(name): name for name in cleaned}
    existing = {t.name_key: t for t in Tag.objects.filter(name_key__in=by_key)}
    missing = [Tag(name=name, name_key=key) for key, name in by_key.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name_key: t for t in Tag.objects.filter(name_key__in=by_key)}
    return [existing[key] for key in by_key]


def tag_create(*, name: str, is_default: bool = False) -> Tag:
    """Create a tag, or return the existing one with the same name in any case."""
    errors: list[FieldError] = []
    cleaned = clean_tag_names([name], errors)
    if errors or not cleaned:
        raise ContactInputError(errors or [FieldError(TAGS, "Tag", "a tag name cannot be empty")])
    with transaction.atomic():
        (tag,) = tags_get_or_create(names=cleaned)
        if is_default and not tag.is_default:
            tag.is_default = True
            tag.save(update_fields=["is_default"])
    return tag


def tag_update(*, tag_id: int, name: str | None = None, is_default: bool | None = None) -> Tag:
    """Rename a tag or mark it as default; refuses a name another tag has in any case."""
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag_id)
        if name is not None:
            errors: list[FieldError] = []
            cleaned = clean_tag_names([name], errors)
            if errors or not cleaned:
                raise ContactInputError(errors or [FieldError("name", "Name", "is required")])
            key = tag_key(cleaned[0])
            if Tag.objects.filter(name_key=key).exclude(pk=tag.pk).exists():
                raise ContactInputError(
                    [FieldError("name", "Name", f'a tag "{cleaned[0]}" already exists')]
                )
            tag.name, tag.name_key = cleaned[0], key
        if is_default is not None:
            tag.is_default = is_default
        tag.save()
    return tag


def contact_tag_keys(contact_id: int) -> set[str]:
    """The keys of the tags a contact has (the plan's ``current_tag_keys``)."""
    links = ContactTag.objects.filter(contact_id=contact_id)
    return set(links.values_list("tag__name_key", flat=True))


def link_tags(contact: Contact, tags: Sequence[Tag]) -> None:
    """Link ``tags`` to the (locked or new) contact; the plan chose those it lacks."""
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=tag) for tag in tags], ignore_conflicts=True
    )
