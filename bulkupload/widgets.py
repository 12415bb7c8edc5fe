"""The upload wizard's tag inputs: the default tags' checkboxes beside the chosen tags' chips."""

from __future__ import annotations

from typing import Any

from django import forms

# A chip sits in the tag dialog's list too, outside the form; ``form`` keeps it in the form.
CHIP_ATTRS = {"class": "form-check-input me-1", "form": "tags-form"}


class TagChip(forms.CheckboxInput):
    """A chosen tag: a ticked checkbox (``tags``) inside a chip labelled with its name."""

    template_name = "bulkupload/widgets/tag_chip.html"

    def __init__(self, label: str) -> None:
        super().__init__(CHIP_ATTRS)
        self.label = label

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["label"] = self.label
        return context


class UploadTagChoices(forms.CheckboxSelectMultiple):
    """Every tag the upload adds, all posted as ``tags``: the default tags as checkboxes
    (``tag-<id>``), the other chosen tags as chips in ``#chosen-tags``, where the tag
    dialog adds more (``bulk-upload.js`` ticks a default tag added there instead)."""

    template_name = "bulkupload/widgets/upload_tags.html"

    def __init__(self) -> None:
        super().__init__({"class": "form-check-input"})
        self.default_ids: set[int] = set()

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        defaults, chips = [], []
        for _group, options, _index in context["widget"]["optgroups"]:
            for option in options:
                if int(str(option["value"])) in self.default_ids:
                    option["attrs"]["id"] = f"tag-{option['value']}"
                    defaults.append(option)
                else:
                    chip = TagChip(option["label"]).get_context(name, option["value"], None)
                    chips.append(chip["widget"])
        context["widget"].update(defaults=defaults, chips=chips)
        return context
