from django.urls import path

from contacts.views import (
    api_keys,
    contact_detail,
    contact_list,
    detail_tags,
    detail_timeline,
    duplicates,
    field_settings,
    list_bulk,
    list_new_contact,
    list_settings,
)

app_name = "contacts"

urlpatterns = [
    path("", contact_list.contact_list, name="list"),
    path("contacts/<int:pk>/", contact_detail.contact_detail, name="detail"),
    # --- Contact page: pencil editor, + Add Field, tags, timeline ---
    path("contacts/<int:pk>/fields/<slug:key>/", contact_detail.field_display, name="field"),
    path(
        "contacts/<int:pk>/fields/<slug:key>/edit/",
        contact_detail.field_edit,
        name="field-edit",
    ),
    path("contacts/<int:pk>/add-field/", contact_detail.field_add, name="field-add"),
    path("contacts/<int:pk>/tags/add/", detail_tags.tag_add, name="tag-add"),
    path("contacts/<int:pk>/tags/remove/", detail_tags.tag_remove, name="tag-remove"),
    path("contacts/<int:pk>/tags/suggest/", detail_tags.tag_suggestions, name="tag-suggestions"),
    path("contacts/<int:pk>/activity/", detail_timeline.contact_timeline, name="timeline"),
    path(
        "contacts/<int:pk>/activity/<int:activity_id>/restore/<slug:key>/",
        detail_timeline.change_restore,
        name="change-restore",
    ),
    # --- end Contact page ---
    # --- Contact list: filters, columns, saved views, bulk actions, new contact ---
    path("contacts/new/", list_new_contact.contact_new, name="new"),
    path("list/filter-inputs/", contact_list.filter_value_inputs, name="list-filter-inputs"),
    path("list/columns/", list_settings.columns, name="list-columns"),
    path("list/views/save/", list_settings.saved_view_save, name="list-view-save"),
    path("list/views/<int:pk>/", list_settings.saved_view_open, name="list-view-open"),
    path("list/views/<int:pk>/delete/", list_settings.saved_view_delete, name="list-view-delete"),
    path("list/bulk/", list_bulk.bulk_action, name="list-bulk"),
    path("list/bulk/<int:pk>/", list_bulk.bulk_status, name="bulk-status"),
    path("list/bulk/actions/", list_bulk.bulk_actions, name="bulk-actions"),
    path("list/export.csv", list_bulk.export_csv, name="list-export"),
    # --- end Contact list ---
    # --- Duplicates: find, not duplicates, merge, unmerge ---
    path("duplicates/", duplicates.duplicates, name="duplicates"),
    path("duplicates/find/", duplicates.duplicates_find, name="duplicates-find"),
    path("duplicates/not/", duplicates.duplicates_not, name="duplicates-not"),
    path("duplicates/merge/", duplicates.merge, name="merge"),
    path("contacts/<int:pk>/unmerge/<int:merge_id>/", duplicates.unmerge, name="unmerge"),
    # --- end Duplicates ---
    # --- Settings > API keys ---
    path("settings/api-keys/", api_keys.api_key_list, name="api-keys"),
    path("settings/api-keys/new/", api_keys.api_key_new, name="api-key-new"),
    path(
        "settings/api-keys/<int:pk>/revoke/",
        api_keys.api_key_revoke_view,
        name="api-key-revoke",
    ),
    # --- end Settings > API keys ---
    # --- Settings > Fields ---
    path("settings/fields/", field_settings.fields_page, name="fields"),
    path("settings/fields/<int:pk>/", field_settings.field_settings, name="field-settings"),
    path("settings/fields/<int:pk>/rename/", field_settings.field_rename, name="field-rename"),
    path("settings/fields/<int:pk>/hide/", field_settings.field_hide, name="field-hide"),
    path("settings/fields/<int:pk>/index/", field_settings.field_index, name="field-index"),
    path(
        "settings/fields/<int:pk>/kind/preview/",
        field_settings.field_kind_preview,
        name="field-kind-preview",
    ),
    path(
        "settings/fields/<int:pk>/kind/not-converting.csv",
        field_settings.field_kind_unconverted_csv,
        name="field-kind-unconverted",
    ),
    path("settings/fields/<int:pk>/kind/", field_settings.field_kind_change, name="field-kind"),
    path("settings/fields/<int:pk>/delete/", field_settings.field_delete, name="field-delete"),
    path(
        "settings/fields/changes/<int:change_id>/not-converted.csv",
        field_settings.field_change_leftovers_csv,
        name="field-change-leftovers",
    ),
    # --- end Settings > Fields ---
]
