"""Rule 1 of DESIGN.md: all writes to contacts go through the contacts/services package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ("accounts", "api", "bulkupload", "contacthub", "contacts", "jobs", "overview")
WRITES = re.compile(
    r"\b(Contact|ContactTag|Activity|Tag|Attribute)\.objects\.([^#\n]*?\.)?"
    r"(create|bulk_create|bulk_update|update|delete|get_or_create|update_or_create)\("
    r"|\b(contact|tag|attribute)\.(save|delete)\("
)


def test_only_the_services_module_writes_contacts_tags_attributes_and_activity():
    offenders = []
    for path in _product_modules():
        if path.is_relative_to(ROOT / "contacts" / "services"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def _product_modules() -> list[Path]:
    return [
        path
        for app in PRODUCT_APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_no_private_name_is_imported_from_another_module():
    """A ``_name`` is private to its module: code that needs it elsewhere gets a public name,
    or the code moves to where it is used."""
    offenders = []
    for path in _product_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] not in PRODUCT_APPS:
                continue
            private = [alias.name for alias in node.names if alias.name.startswith("_")]
            if private:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {private}")
    assert offenders == []


def test_no_product_module_is_over_about_400_lines():
    limit = 450  # "about 400": past this, a module is split by capability
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in _product_modules()
        if (lines := len(path.read_text().splitlines())) > limit
    }
    assert too_long == {}
