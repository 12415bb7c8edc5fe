"""Django admin for Contact Hub. Every save goes through ``contacts.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from contacts import services
from contacts.fields import BUILTIN_BY_KEY, field_registry
from contacts.models import Activity, Attribute, BulkAction, Contact, Tag
from contacts.services import Actor, ServiceError

BUILTIN_FORM_FIELDS = ("name", "email", "user_id", "whatsapp_opted")


class ContactAdminForm(forms.ModelForm):
    phone_input = forms.CharField(
        label="Phone number",
        required=False,
        help_text="With +country code, or national digits with the country code below.",
    )
    country_code_input = forms.CharField(label="Country code", required=False)
    tag_list = forms.ModelMultipleChoiceField(
        label="Tags",
        queryset=Tag.objects.all(),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple("tags", is_stacked=False),
    )

    class Meta:
        model = Contact
        fields = [*BUILTIN_FORM_FIELDS, "traits"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["phone_input"]
            del self.fields["country_code_input"]
            self.fields["tag_list"].initial = list(self.instance.tags.all())

    def clean_traits(self) -> dict[str, Any]:
        traits = self.cleaned_data.get("traits") or {}
        if not isinstance(traits, dict):
            raise forms.ValidationError("Traits must be a JSON object of field key to value.")
        registry = field_registry()
        for key in traits:
            target = registry.get(key)
            if target is None or target.builtin:
                raise forms.ValidationError(f'"{key}" is not the key of a custom field.')
        errors = services.contact_values_errors(values=traits, registry=registry)
        if errors:
            raise forms.ValidationError([str(e) for e in errors])
        return traits


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("__str__", "phone", "email", "user_id", "whatsapp_opted", "created")
    list_filter = ("whatsapp_opted", "tags", "created_at")
    search_fields = ("name", "phone", "phone_number", "email", "user_id")
    readonly_fields = (
        "phone",
        "country_code",
        "phone_number",
        "created",
        "updated",
        "version",
    )
    list_per_page = 50
    show_full_result_count = False  # a COUNT over 500k rows on every page is not worth it
    actions = ["merge_into_oldest"]

    @admin.action(description="Merge the selected contacts into the oldest", permissions=["delete"])
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        """Each field keeps the oldest contact's value when it has one (the merge page on
        the site lets one pick field by field)."""
        ids = sorted(queryset.values_list("pk", flat=True))
        try:
            services.contacts_merge(
                actor=Actor.admin(request.user), survivor_id=ids[0], other_ids=ids[1:]
            )
        except services.MergeRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Merged {len(ids) - 1} contact(s) into contact {ids[0]}.")

    def get_fieldsets(self, request: HttpRequest, obj: Contact | None = None) -> list:
        identity = (
            ("phone_input", "country_code_input")
            if obj is None
            else ("phone", "country_code", "phone_number")
        )
        return [
            (None, {"fields": (*identity, *BUILTIN_FORM_FIELDS, "tag_list")}),
            ("Custom fields", {"fields": ("traits",)}),
            ("Record", {"fields": ("created", "updated", "version")}),
        ]

    # Moments read as on the contact page: in the viewer's zone, with the zone named.
    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Contact) -> str:
        return BUILTIN_BY_KEY["created_at"].display(obj.created_at)

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj: Contact) -> str:
        return BUILTIN_BY_KEY["updated_at"].display(obj.updated_at)

    def save_model(
        self, request: HttpRequest, obj: Contact, form: forms.Form, change: bool
    ) -> None:
        data = form.cleaned_data
        actor = Actor.admin(request.user)
        builtin = {key: data[key] for key in BUILTIN_FORM_FIELDS if key != "user_id"}
        tag_names = [t.name for t in data.get("tag_list") or []]
        try:
            if not change:
                contact = services.contact_create(
                    actor=actor,
                    phone_number=data.get("phone_input") or None,
                    country_code=data.get("country_code_input") or None,
                    user_id=data.get("user_id"),
                    values={**builtin, **data["traits"]},
                    tags=tag_names,
                )
                obj.pk = contact.pk
                return
            stored = Contact.objects.get(pk=obj.pk)
            cleared = {key: None for key in stored.traits if key not in data["traits"]}
            values = {
                **builtin,
                "user_id": data.get("user_id") or None,
                **data["traits"],
                **cleared,
            }
            services.contact_update(actor=actor, contact_id=obj.pk, values=values)
            current = {t.name for t in stored.tags.all()}
            services.contact_tags_add(
                actor=actor, contact_id=obj.pk, names=[n for n in tag_names if n not in current]
            )
            services.contact_tags_remove(
                actor=actor, contact_id=obj.pk, names=[n for n in current if n not in tag_names]
            )
        except ServiceError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")

    def save_related(
        self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool
    ) -> None:
        """Tags were saved by save_model through the services."""

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        services.contacts_delete(
            actor=Actor.admin(request.user), contacts=Contact.objects.filter(pk=obj.pk)
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        services.contacts_delete(actor=Actor.admin(request.user), contacts=queryset)


class AttributeAdminForm(forms.ModelForm):
    class Meta:
        model = Attribute
        fields = ["label", "type"]


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    form = AttributeAdminForm
    list_display = ("label", "key", "type", "indexed", "hidden", "created_by", "created_at")
    list_filter = ("type",)
    search_fields = ("label", "key")

    def has_delete_permission(self, request: HttpRequest, obj: Attribute | None = None) -> bool:
        # Deleting a row here would leave its values on every contact and its index behind:
        # Settings > Fields deletes a field with its values, as a background job.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Attribute | None = None) -> tuple:
        return ("key", "type", "created_by", "created_at") if obj else ()

    def save_model(
        self, request: HttpRequest, obj: Attribute, form: forms.Form, change: bool
    ) -> None:
        try:
            if change:
                services.attribute_update(attribute_id=obj.pk, label=obj.label)
            else:
                created = services.attribute_create(
                    label=obj.label, type=obj.type, created_by=request.user
                )
                obj.pk = created.pk
        except ServiceError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "created_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    fields = ("name", "is_default")

    def save_model(self, request: HttpRequest, obj: Tag, form: forms.Form, change: bool) -> None:
        try:
            if change:
                services.tag_update(tag_id=obj.pk, name=obj.name, is_default=obj.is_default)
            else:
                obj.pk = services.tag_create(name=obj.name, is_default=obj.is_default).pk
        except ServiceError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "contact",
        "kind",
        "source",
        "actor_user",
        "actor_api_key",
        "upload_job_id",
    )
    list_filter = ("kind", "source")
    list_select_related = ("contact", "actor_user", "actor_api_key")
    search_fields = ("contact__name", "contact__phone")
    raw_id_fields = ("contact",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False


@admin.register(BulkAction)
class BulkActionAdmin(admin.ModelAdmin):
    """Background bulk actions from the contact list: a read-only record with a progress link."""

    list_display = ("created_at", "kind", "status", "total", "done", "changed", "created_by")
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    readonly_fields = ("progress_page",)

    @admin.display(description="Progress page")
    def progress_page(self, obj: BulkAction) -> str:
        url = reverse("contacts:bulk-status", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BulkAction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BulkAction | None = None) -> bool:
        return False


# --- API keys (public API) ------------------------------------------------------------------
from contacts.api_keys import api_key_create, api_key_revoke  # noqa: E402
from contacts.models import ApiKey  # noqa: E402


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created through ``api_key_create``: the secret is shown once, in a message."""

    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_keys"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple:
        return ("name",) if obj is None else ("name", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.Form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        try:
            created = api_key_create(name=obj.name, created_by=request.user)
        except ServiceError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")
            return
        obj.pk = created.api_key.pk
        messages.warning(
            request,
            f'API key "{created.api_key.name}": {created.secret} (copy it now: it is shown '
            "only this once)",
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key_id=api_key.pk)
        self.message_user(request, "The selected keys were revoked.", messages.SUCCESS)


# --- end API keys ---------------------------------------------------------------------------
