"""Rule 1 of DESIGN.md: all writes to contacts go through the contacts/services package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = re.compile(
    r"\b(Contact|ContactTag|Activity|Tag|Attribute)\.objects\.([^#\n]*?\.)?"
    r"(create|bulk_create|bulk_update|update|delete|get_or_create|update_or_create)\("
    r"|\b(contact|tag|attribute)\.(save|delete)\("
)


def test_only_the_services_module_writes_contacts_tags_attributes_and_activity():
    offenders = []
    for app in ("contacts", "bulkupload", "contacthub", "api", "overview"):
        for path in (ROOT / app).rglob("*.py"):
            if path.is_relative_to(ROOT / "contacts" / "services"):
                continue
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if WRITES.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
