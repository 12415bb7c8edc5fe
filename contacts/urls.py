from django.urls import path

from contacts.views import (
    api_keys,
    contact_detail,
    contact_list,
    detail_tags,
    detail_timeline,
    duplicates,
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
    path("list/columns/", list_settings.columns_save, name="list-columns"),
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
]
