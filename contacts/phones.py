"""Phone normalisation: every entry point turns (number, country code) into E.164 here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings

_SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_STRIP_RE = re.compile(r"[\s().\-/]")


class PhoneError(ValueError):
    """A phone number that cannot be stored; ``str()`` says why, for people."""

    def __init__(self, message: str, *, field: str = "phone_number") -> None:
        self.field = field
        super().__init__(message)

    @property
    def label(self) -> str:
        """The field at fault, as people call it."""
        return "Country code" if self.field == "country_code" else "Phone number"


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    country_code: str  # digits, e.g. "91"
    national_number: str  # national significant number, e.g. "9876543210"


def normalize_country_code(country_code: str | int | None) -> str:
    """``"+91"``, ``"91"``, ``91`` -> ``"91"``; ``""`` when not given."""
    if country_code is None:
        return ""
    return _normalize_country_code(str(country_code))


@lru_cache(maxsize=1024)  # a CSV repeats the same few codes on every row
def _normalize_country_code(country_code: str) -> str:
    text = _STRIP_RE.sub("", country_code).lstrip("'").lstrip("+")
    if text.startswith("00"):
        text = text[2:]
    if not text:
        return ""
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or (
        phonenumbers.region_code_for_country_code(int(text)) == "ZZ"
    ):
        raise PhoneError(f'"{country_code}" is not a known country code', field="country_code")
    return text


def normalize_phone(phone_number: str | int, country_code: str | int | None = None) -> Phone:
    """Parse a phone number written any common way into :class:`Phone`.

    ``9876543210`` with ``+91`` or ``91``, ``+919876543210`` alone, and ``09876543210`` with
    ``+91`` all give ``+919876543210``. A number written with ``+`` needs no country code;
    one written without either uses ``CONTACTHUB_DEFAULT_REGION``. Excel damage is caught:
    a leading apostrophe is dropped, and ``9.87654E+09`` is refused because digits were lost.
    """
    return _normalize(str(phone_number).strip(), normalize_country_code(country_code))


@lru_cache(maxsize=4096)
def _region_for(country_code: str) -> str:
    return phonenumbers.region_code_for_country_code(int(country_code))


# --- Fast path for national digits with a country code (bulk import) ---
# Most CSV rows hold plain national digits next to a country code. For those, parsing is
# only a length check when none of the rules phonenumbers applies to such input can fire:
# no national or international prefix, no country code written again in front, no
# prefix transform. Anything else takes the full parse. tests/contacts/test_phones_fast.py
# checks that both paths agree; tests/contacts/test_coercion_fast.py that the prefixes' single
# pattern matches exactly when one of them does.
def _prefix_patterns(country_code: str, metadata: phonenumbers.PhoneMetadata) -> list[str]:
    """Patterns of the prefixes that send national digits to the full parse."""
    prefixes = [re.escape(country_code), "0"]
    prefixes += [p for p in (metadata.international_prefix, metadata.national_prefix) if p]
    if metadata.national_prefix_for_parsing:
        prefixes.append(metadata.national_prefix_for_parsing)
    return prefixes


@lru_cache(maxsize=512)
def _fast_rules(country_code: str) -> tuple[frozenset[int], re.Pattern[str]] | None:
    region = _region_for(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.general_desc is None:
        return None
    if metadata.national_prefix_transform_rule:
        return None
    lengths = frozenset(metadata.general_desc.possible_length or ())
    # One alternation matches at the start exactly when one of the prefixes does.
    prefixes = "|".join(f"(?:{p})" for p in _prefix_patterns(country_code, metadata))
    return lengths, re.compile(prefixes)


def _fast_national(digits: str, country_code: str) -> Phone | None:
    """``Phone`` for ASCII national digits with a country code, or None: use the full parse."""
    rules = _fast_rules(country_code)
    if rules is None:
        return None
    lengths, prefixes = rules
    if len(digits) not in lengths or prefixes.match(digits):
        return None
    return Phone(e164=f"+{country_code}{digits}", country_code=country_code, national_number=digits)


# --- end fast path ---
def _normalize(raw: str, country_code: str) -> Phone:
    text = raw.lstrip("'").strip()
    fast = text.isascii() and text.isdigit() and country_code
    if fast and (phone := _fast_national(text, country_code)) is not None:
        return phone
    return _normalize_full(raw, text, country_code)


def _normalize_full(raw: str, text: str, country_code: str) -> Phone:
    if not text:
        raise PhoneError("phone number is empty")
    if _SCIENTIFIC_RE.match(text):
        raise PhoneError(
            f'"{raw}" looks like a number a spreadsheet shortened (scientific notation); '
            "format the column as text and export again"
        )
    compact = _STRIP_RE.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d{3,17}", compact):
        raise PhoneError(f'"{raw}" is not a phone number')
    if compact.startswith("+"):
        region = None
    elif country_code:
        region = _region_for(country_code)
        if region == "001":  # non-geographic codes are parsed in international form
            compact, region = f"+{country_code}{compact}", None
    else:
        region = settings.CONTACTHUB_DEFAULT_REGION
    try:
        parsed = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f'"{raw}" is not a phone number') from None
    parsed_code = str(parsed.country_code)
    if country_code and compact.startswith("+") and parsed_code != country_code:
        raise PhoneError(
            f'"{raw}" has country code +{parsed_code} but the country code given is +{country_code}'
        )
    if not phonenumbers.is_possible_number(parsed):
        region_name = phonenumbers.region_code_for_number(parsed) or f"+{parsed_code}"
        raise PhoneError(f'"{raw}" is not a possible phone number for {region_name}')
    national = phonenumbers.national_significant_number(parsed)
    return Phone(
        e164=f"+{parsed_code}{national}", country_code=parsed_code, national_number=national
    )
