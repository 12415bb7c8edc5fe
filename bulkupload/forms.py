"""Forms of the upload wizard; each owns its validation."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import FieldWithButtons, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row, Submit
from django import forms
from django.urls import reverse_lazy

from bulkupload import csvfile
from bulkupload.mapping import column_samples, mappable_fields
from bulkupload.models import UploadJob
from bulkupload.widgets import TagChip, UploadTagChoices
from contacts.fields import FieldRegistry, attribute_key_for
from contacts.kinds import DEFAULT_TYPE, TYPE_CHOICES, is_field_type
from contacts.models import Tag
from contacts.selectors import id_param

DELIMITER_CHOICES = [(",", "Comma (,)"), (";", "Semicolon (;)"), ("tab", "Tab")]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Up to 50 MB, 500,000 rows and 300 columns, with a header row. UTF-8 or "
        "Windows-1252; comma, semicolon or tab separated.",
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,text/csv,text/plain",
                "data-max-bytes": csvfile.MAX_BYTES,
                "class": "visually-hidden",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "upload-card bg-white border rounded p-4"
        self.helper.attrs = {"novalidate": "", "enctype": "multipart/form-data"}
        # The drop zone is the file input's label; bulk-upload.js fills in the chosen name.
        self.helper.layout = Layout(
            Field("file", template="bulkupload/_file_drop.html"),
            Div(
                HTML(
                    '<a class="btn btn-outline-secondary" href="{% url \'bulkupload:list\' %}">'
                    "Back to uploads</a>"
                ),
                Submit("submit", "Upload and continue"),
                css_class="d-flex gap-2",
            ),
        )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > csvfile.MAX_BYTES:
            raise forms.ValidationError(
                f"{file.name} is larger than {csvfile.MAX_BYTES // (1024 * 1024)} MB; "
                "split it and upload the parts"
            )
        return file


class FileFormatForm(forms.Form):
    encoding = forms.ChoiceField(label="Encoding", choices=list(csvfile.ENCODINGS.items()))
    delimiter = forms.ChoiceField(label="Separator", choices=DELIMITER_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template's form posts to this upload's URL
        self.helper.disable_csrf = True  # the surrounding form has its own, or is a GET
        self.helper.label_class = "small mb-0"
        self.helper.layout = Layout(
            Row(
                Column(Field("encoding", css_class="form-select-sm"), css_class="col-auto"),
                Column(Field("delimiter", css_class="form-select-sm"), css_class="col-auto"),
                Column(
                    StrictButton(
                        "Read the file again",
                        type="submit",
                        css_class="btn-sm btn-outline-secondary",
                    ),
                    css_class="col-auto",
                ),
                css_class="g-2 align-items-end",
            )
        )

    @staticmethod
    def initial_for(job: UploadJob) -> dict[str, str]:
        return {
            "encoding": job.encoding,
            "delimiter": "tab" if job.delimiter == "\t" else job.delimiter,
        }

    def clean_delimiter(self) -> str:
        value = self.cleaned_data["delimiter"]
        return "\t" if value == "tab" else value


class MappingForm(forms.Form):
    """One select per CSV column: a field, a new field (label and type), or skip."""

    list_separator = forms.CharField(
        label="List separator",
        max_length=3,
        initial=";",
        strip=False,
        help_text="Splits cells of list fields and tags, e.g. red;green.",
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "size": 3}),
    )

    def __init__(
        self,
        *args: Any,
        job: UploadJob,
        registry: FieldRegistry,
        rows: list[list[str]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", self.initial_for(job))
        super().__init__(*args, **kwargs)
        self.job, self.registry, self.rows = job, registry, rows
        builtin = [(f"field:{f.key}", f.label) for f in mappable_fields(registry) if f.builtin]
        custom = [(f"field:{f.key}", f.label) for f in registry.custom]
        self.choice_groups: list[tuple[str, list[tuple[str, str]]]] = [
            ("", [("skip", "Skip this column"), ("new", "New field…")]),
            ("Contact fields", builtin),
        ]
        if custom:
            self.choice_groups.append(("Custom fields", custom))
        choices: list[Any] = [*self.choice_groups[0][1], *self.choice_groups[1:]]
        for index, header in enumerate(job.headers):
            # One table row per column (template), so no crispy Layout: the widgets carry
            # their classes and the attributes bulk-upload.js uses.
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=choices,
                widget=forms.Select(
                    attrs={"class": "form-select form-select-sm", "data-mapping-select": ""}
                ),
            )
            self.fields[f"col_{index}_label"] = forms.CharField(
                label="New field name",
                required=False,
                max_length=100,
                widget=forms.TextInput(
                    attrs={
                        "class": "form-control form-control-sm upload-new-label",
                        "placeholder": "Field name",
                    }
                ),
            )
            self.fields[f"col_{index}_type"] = forms.ChoiceField(
                label="Type",
                choices=TYPE_CHOICES,
                initial=DEFAULT_TYPE,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    @staticmethod
    def initial_for(job: UploadJob) -> dict[str, Any]:
        initial: dict[str, Any] = {"list_separator": job.list_separator}
        for index, entry in enumerate(job.column_mapping):
            kind = entry.get("kind")
            if kind == "field":
                initial[f"col_{index}"] = f"field:{entry['key']}"
            elif kind == "new":
                initial[f"col_{index}"] = "new"
                initial[f"col_{index}_label"] = entry.get("label", "")
                initial[f"col_{index}_type"] = entry.get("type", DEFAULT_TYPE)
            else:
                initial[f"col_{index}"] = "skip"
        return initial

    def columns(self) -> list[dict[str, Any]]:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
        return [
            {
                "index": index,
                "header": header,
                "samples": [s for s in column_samples(self.rows, index, 4) if s.strip()][:3],
                "select": self[f"col_{index}"],
                "label": self[f"col_{index}_label"],
                "type": self[f"col_{index}_type"],
                "groups": self.choice_groups,
            }
            for index, header in enumerate(self.job.headers)
        ]

    def mapping_from(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        mapping: list[dict[str, Any]] = []
        for index, header in enumerate(self.job.headers):
            choice = data.get(f"col_{index}") or "skip"
            if choice.startswith("field:") and choice[6:] in self.registry:
                mapping.append({"kind": "field", "key": choice[6:]})
            elif choice == "new":
                label = " ".join((data.get(f"col_{index}_label") or header or "").split())
                field_type = data.get(f"col_{index}_type") or DEFAULT_TYPE
                if not is_field_type(field_type):
                    field_type = DEFAULT_TYPE
                mapping.append({"kind": "new", "label": label, "type": field_type})
            else:
                mapping.append({"kind": "skip"})
        return mapping

    def draft_mapping(self) -> list[dict[str, Any]]:
        """The mapping as currently chosen, valid or not (for the live preview)."""
        return self.mapping_from(self.data if self.is_bound else self.initial)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mapping = self.mapping_from(data)
        used: dict[str, int] = {}
        new_keys: dict[str, int] = {}
        for index, entry in enumerate(mapping):
            name = f"col_{index}"
            if entry["kind"] == "field":
                if entry["key"] in used:
                    self.add_error(
                        name,
                        f"{self.registry[entry['key']].label} is already filled by column "
                        f"“{self.job.headers[used[entry['key']]]}”",
                    )
                used[entry["key"]] = index
            elif entry["kind"] == "new":
                label = entry["label"]
                if not label:
                    self.add_error(f"{name}_label", "Give the new field a name")
                    continue
                if (existing := self.registry.resolve(label)) is not None:
                    self.add_error(
                        f"{name}_label",
                        f"a field called “{existing.label}” already exists: choose it instead",
                    )
                key = attribute_key_for(label)
                if key in new_keys:
                    self.add_error(f"{name}_label", "two new fields cannot have the same name")
                new_keys[key] = index
        if "phone" not in used:
            raise forms.ValidationError(
                "Map a column to Phone to continue: every contact is matched by its phone number."
            )
        data["mapping"] = mapping
        return data


class TagsForm(forms.Form):
    """The tags every contact of the file gets: the default tags ticked or not, and the
    others chosen in the tag dialog (they arrive as chips)."""

    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=UploadTagChoices,
        error_messages={
            "invalid_choice": "Tags: tag %(value)s no longer exists; choose the tags again",
            "invalid_pk_value": "Tags: “%(pk)s” is not a tag",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = [pk for v in self["tags"].value() or [] if (pk := id_param(str(v))) is not None]
        defaults = list(Tag.objects.filter(is_default=True))
        others = list(Tag.objects.filter(pk__in=chosen, is_default=False))
        # Only these are drawn; any tag is accepted (the dialog adds any).
        widget = self.fields["tags"].widget
        widget.choices = [(tag.pk, tag.name) for tag in (*defaults, *others)]
        widget.default_ids = {tag.pk for tag in defaults}
        self.helper = FormHelper()
        self.helper.form_id = "tags-form"
        self.helper.form_class = "bg-white border rounded p-3 mb-3"
        self.helper.form_show_labels = False  # the widget's fieldsets have legends
        self.helper.layout = Layout(
            HTML(
                "<p>The tags you choose are added to every contact in this file. Tags a "
                "contact already has stay as they are.</p>"
            ),
            Field("tags", template="layout/bare_field.html"),
            Div(
                HTML(
                    '<a class="btn btn-outline-secondary" '
                    "href=\"{% url 'bulkupload:map' job.pk %}\">Back</a>"
                ),
                StrictButton("Continue to review", type="submit", css_class="btn-primary"),
                css_class="d-flex gap-2",
            ),
        )


def chip_for(tag: Tag) -> str:
    """A tag chosen in the dialog, as the chip the tags form shows it."""
    return TagChip(tag.name).render("tags", tag.pk)


class TagSearchForm(forms.Form):
    """The tag dialog's search box: lists the matching tags as you type (htmx)."""

    q = forms.CharField(
        label="Search tags",
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "id": "tag-search",
                "class": "form-control mb-2",
                "placeholder": "Type to search",
                "autocomplete": "off",
                "hx-get": reverse_lazy("bulkupload:tag_search"),
                "hx-trigger": "input changed delay:250ms, search, load",
                "hx-target": "#tag-results",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # not a form: htmx sends it alone
        self.helper.disable_csrf = True
        self.helper.layout = Layout(Field("q", template="layout/bare_field.html"))


class TagCreateForm(forms.Form):
    name = forms.CharField(label="Create a tag", max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "new-tag-%s")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template's form posts it with htmx
        self.helper.disable_csrf = True  # htmx sends the CSRF token as a header (base.html)
        self.helper.layout = Layout(
            FieldWithButtons(
                "name", StrictButton("Save tag", type="submit", css_class="btn-primary")
            )
        )
