"""Contact Hub's domain model.

Models hold data and constraints only. Every write to contacts, tags, attributes and the
activity log goes through ``contacts.services``; see DESIGN.md for the rules it enforces.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from jobs.models import JobStatus, ResumableJob


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Boolean"
    DATETIME = "datetime", "Date/time"
    LIST = "list", "List"


class Source(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    UPLOAD = "upload", "Upload"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


def tag_key(name: str) -> str:
    """What makes two tag names the same tag: spaces collapsed, case folded.

    Computed in Python (stored in ``Tag.name_key``) so that SQLite and PostgreSQL agree on
    what "the same tag" means for non-ASCII names too.
    """
    return " ".join(name.split()).casefold()


class Tag(models.Model):
    name = models.CharField(max_length=100, help_text="As first written.")
    # tag_key(name): the tag's identity; unique.
    name_key = models.CharField(max_length=100, unique=True, editable=False)
    is_default = models.BooleanField(
        default=False, help_text="Offered first, as a checkbox, in the upload wizard."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name_key"]

    def __str__(self) -> str:
        return self.name


class Attribute(models.Model):
    """The definition of a custom field; its values live in ``Contact.traits[key]``."""

    key = models.SlugField(max_length=100, unique=True, allow_unicode=False)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    indexed = models.BooleanField(
        default=False, help_text="Has an expression index for filters and sorts."
    )
    # Hidden: not offered by the column and filter pickers or CSV mapping (values stay).
    # Changing: a kind change or delete is rewriting its values; writes to it are refused.
    hidden = models.BooleanField(default=False)
    changing = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Contact(models.Model):
    user_id = models.CharField(
        "user id",
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="The id of this person in another system (unique when set).",
    )
    country_code = models.CharField(max_length=4, blank=True, help_text="Digits, e.g. 91.")
    phone_number = models.CharField(max_length=20, blank=True, help_text="National digits.")
    phone = models.CharField(
        max_length=20, unique=True, null=True, blank=True, help_text="E.164, e.g. +919876543210."
    )
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)
    whatsapp_opted = models.BooleanField("WhatsApp opted", default=False)
    # When WhatsApp opted was last set or cleared, and by whom (the change plan stamps both).
    opted_at = models.DateTimeField("opted in at", null=True, blank=True, editable=False)
    opt_in_source = models.CharField(
        "opt-in source",
        max_length=200,
        blank=True,
        editable=False,
        help_text="Who last set or cleared WhatsApp opted: a user, an upload or an API key.",
    )
    traits = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        permissions = [("upload_contacts", "Can bulk upload contacts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=False) | Q(user_id__isnull=False),
                name="contact_has_phone_or_user_id",
            ),
        ]
        indexes = [
            # Newest first with a stable tie-break: the list's default order.
            models.Index(fields=["-created_at", "-id"], name="contact_created_idx"),
            models.Index(fields=["-updated_at", "-id"], name="contact_updated_idx"),
            models.Index(fields=["name", "id"], name="contact_name_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone_number"], name="contact_phone_number_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.user_id or f"Contact {self.pk}"


class ContactTag(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "tag"], name="contacttag_unique"),
        ]
        indexes = [models.Index(fields=["tag", "contact"], name="contacttag_tag_idx")]


class ApiKey(models.Model):
    """A key for the public API; only a hash of the secret is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    secret_hash = models.CharField(max_length=128, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Activity(models.Model):
    """One change to one contact: who, when, from where, and old -> new per field.

    ``changes`` holds ``{"fields": {key: [old, new]}, "tags_added": [...],
    "tags_removed": [...]}``; an event holds ``{"event": name, "traits": {...}}``.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        EVENT = "event", "Event"
        MERGED = "merged", "Merged"
        UNMERGED = "unmerged", "Unmerged"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="activities")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A plain id rather than a foreign key: bulkupload depends on contacts, not the reverse.
    upload_job_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at", "-id"], name="activity_contact_idx"),
            models.Index(fields=["upload_job_id", "contact"], name="activity_upload_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contact_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ListPreference(models.Model):
    """The columns, in order, that a user chose for the contact list."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_list_preference"
    )
    columns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)


class SavedView(models.Model):
    """A named set of filters, columns and sort for the contact list."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_contact_views"
    )
    shared = models.BooleanField(default=False, help_text="Visible to the whole team.")
    query = models.JSONField(default=dict, help_text="Search, filters and sort.")
    columns = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_owner_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ApiIdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key`` header."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_unique")
        ]


class BulkAction(ResumableJob):
    """A bulk action from the contact list on more contacts than a request should handle.

    The contacts are fixed when it is confirmed (:class:`BulkActionContact`, the count the
    person saw); a background task works through them in chunks, committing ``done`` with
    each chunk, so a stopped or killed worker resumes where it was (see ``jobs.runner``).
    """

    class Kind(models.TextChoices):
        TAGS_ADD = "tags_add", "Add tags"
        TAGS_REMOVE = "tags_remove", "Remove tags"
        DELETE = "delete", "Delete"

    Status = JobStatus

    kind = models.CharField(max_length=12, choices=Kind.choices)
    tag_names = models.JSONField(default=list, blank=True)
    changed = models.PositiveIntegerField(default=0, help_text="Contacts changed or deleted.")
    return_url = models.CharField(max_length=2000, blank=True)

    class Meta(ResumableJob.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.total} contacts ({self.get_status_display()})"


class BulkActionContact(models.Model):
    """One contact of a bulk action, in the order the action works through them.

    Not a foreign key to the contact: a delete action removes the contacts it lists.
    """

    action = models.ForeignKey(BulkAction, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    contact_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["action", "position"], name="bulkactioncontact_position_unique"
            )
        ]


class ContactAlias(models.Model):
    """A phone, user id or contact id that a merge folded into ``contact`` (the survivor).

    The matcher reads it, so that a merged contact's phone or user id reaches the survivor;
    a merged contact's old id redirects its page. Removed again by an unmerge.
    """

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        USER_ID = "user_id", "User id"
        CONTACT_ID = "contact_id", "Contact id"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=255)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="aliases")
    merge = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "contact aliases"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="contactalias_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} -> {self.contact_id}"


class DuplicateScan(ResumableJob):
    """A search for probable duplicates; its groups are the Duplicates page's list."""

    Status = JobStatus

    class Meta(ResumableJob.Meta):
        pass


class DuplicateGroup(models.Model):
    """Contacts that are probably one person, and why (one or more reasons)."""

    scan = models.ForeignKey(DuplicateScan, on_delete=models.CASCADE, related_name="groups")
    reasons = models.JSONField(default=list)  # ["same email a@b.c", ...]
    contact_ids = models.JSONField(default=list)  # sorted


class NotDuplicatePair(models.Model):
    """Two contacts a person said are not one person; a scan never groups them again."""

    low_id = models.BigIntegerField()  # plain ids: the pair outlives neither contact's merge
    high_id = models.BigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low_id", "high_id"], name="notduplicate_unique"),
            models.CheckConstraint(condition=Q(low_id__lt=F("high_id")), name="notduplicate_order"),
        ]


class FieldChange(ResumableJob):
    """A custom field's kind change or delete (every contact's value rewritten, in id order
    after ``after_id``), or its index built or dropped (``contacts.services.field_changes``).
    Key and label are copied: a deleted field's change still says which field it was."""

    class Operation(models.TextChoices):
        CHANGE_KIND = "kind", "Change kind"
        DELETE = "delete", "Delete"
        INDEX = "index", "Index"
        UNINDEX = "unindex", "Drop index"

    Status = JobStatus

    operation = models.CharField(max_length=10, choices=Operation.choices)
    attribute = models.ForeignKey(
        Attribute, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    field_key = models.CharField(max_length=100)
    field_label = models.CharField(max_length=100)
    from_type = models.CharField(max_length=10, blank=True, choices=FieldType.choices)
    to_type = models.CharField(max_length=10, blank=True, choices=FieldType.choices)
    after_id = models.BigIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)  # contacts whose value changed
    unconverted = models.PositiveIntegerField(default=0)  # values kept as leftovers

    class Meta(ResumableJob.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.field_label} ({self.get_status_display()})"


class FieldChangeLeftover(models.Model):
    """A value a kind change could not convert: taken off the contact, kept here as it was."""

    change = models.ForeignKey(FieldChange, on_delete=models.CASCADE, related_name="leftovers")
    contact_id = models.BigIntegerField()  # not a foreign key: the value outlives the contact
    value = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["change", "contact_id"], name="fieldchangeleftover_unique"
            )
        ]
