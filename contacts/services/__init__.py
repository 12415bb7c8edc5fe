"""Every write to contacts, tags, attributes, the activity log and list settings.

Web views, the admin, the bulk upload task and the public API call these functions; nothing
else writes those models. One module per capability:

- ``actor``: who writes (recorded on every activity entry);
- (``contacts.errors``: why a write was refused, naming canonical field keys, re-exported here);
- ``planning``: input checking without writes (names to fields, values coerced);
- ``plan``: the change plan, what a write does to one contact (pure; every writer uses it);
- ``contacts``: one contact created, upserted, updated, tagged, deleted;
- ``tags``, ``attributes``: tags and custom fields;
- ``imports``: a batch of CSV rows written set-wise;
- ``track_batch``: a batch of upserts (the Track API's batch) written set-wise;
- ``bulk``: bulk actions from the list (inline or as a background job);
- ``field_changes``: a field's kind changed, the field deleted, its index built or dropped
  (background jobs);
- ``undo``: an upload taken back, a chunk of contacts at a time;
- ``list_settings``: a user's columns and saved views;
- ``merge``: duplicates merged into a survivor, and unmerged;
- ``retry``: a write retried after a concurrent insert of the same row.
"""

from contacts.errors import (
    ContactConflict,
    ContactInputError,
    DuplicateContact,
    FieldError,
    MergeRefused,
    ServiceError,
    VersionConflict,
)
from contacts.services.actor import Actor
from contacts.services.attributes import attribute_create, attribute_hide, attribute_update
from contacts.services.bulk import (
    BULK_ACTIONS,
    BULK_CHUNK,
    bulk_action_contact_ids,
    bulk_action_run,
    bulk_action_start,
    bulk_inline_limit,
    contacts_tags_add_bulk,
    contacts_tags_remove_bulk,
)
from contacts.services.contacts import (
    contact_create,
    contact_event_record,
    contact_field_update,
    contact_tags_add,
    contact_tags_remove,
    contact_update,
    contacts_delete,
)
from contacts.services.field_changes import (
    FIELD_CHANGES,
    field_change_run,
    field_delete_start,
    field_index_start,
    field_kind_change_start,
)
from contacts.services.imports import (
    IMPORT_CREATED,
    IMPORT_UNCHANGED,
    IMPORT_UPDATED,
    ImportOutcomes,
    ImportRow,
    contacts_import_batch,
)
from contacts.services.list_settings import (
    list_preference_save,
    saved_view_delete,
    saved_view_save,
)
from contacts.services.merge import (
    MergeChoice,
    contact_unmerge,
    contacts_merge,
    merge_choices,
)
from contacts.services.planning import contact_values_errors
from contacts.services.tags import MAX_TAG_LENGTH, tag_create, tag_update, tags_get_or_create
from contacts.services.track_batch import TrackItem, TrackOutcome, contacts_track_batch
from contacts.services.undo import (
    Kept,
    UndoOutcome,
    contact_change_restore,
    restorable_change,
    upload_entries,
    upload_undo_chunk,
    upload_undo_contact_ids,
    upload_undo_counts,
)
from contacts.services.upsert import UpsertResult, contact_upsert

__all__ = [
    "BULK_ACTIONS",
    "BULK_CHUNK",
    "FIELD_CHANGES",
    "IMPORT_CREATED",
    "IMPORT_UNCHANGED",
    "IMPORT_UPDATED",
    "MAX_TAG_LENGTH",
    "Actor",
    "ContactConflict",
    "ContactInputError",
    "DuplicateContact",
    "FieldError",
    "ImportOutcomes",
    "ImportRow",
    "Kept",
    "MergeChoice",
    "MergeRefused",
    "ServiceError",
    "TrackItem",
    "TrackOutcome",
    "UndoOutcome",
    "UpsertResult",
    "VersionConflict",
    "attribute_create",
    "attribute_hide",
    "attribute_update",
    "bulk_action_contact_ids",
    "bulk_action_run",
    "bulk_action_start",
    "bulk_inline_limit",
    "contact_change_restore",
    "contact_create",
    "contact_event_record",
    "contact_field_update",
    "contact_tags_add",
    "contact_tags_remove",
    "contact_unmerge",
    "contact_update",
    "contact_upsert",
    "contact_values_errors",
    "contacts_delete",
    "contacts_import_batch",
    "contacts_merge",
    "contacts_tags_add_bulk",
    "contacts_tags_remove_bulk",
    "contacts_track_batch",
    "field_change_run",
    "field_delete_start",
    "field_index_start",
    "field_kind_change_start",
    "list_preference_save",
    "merge_choices",
    "restorable_change",
    "saved_view_delete",
    "saved_view_save",
    "tag_create",
    "tag_update",
    "tags_get_or_create",
    "upload_entries",
    "upload_undo_chunk",
    "upload_undo_contact_ids",
    "upload_undo_counts",
]
