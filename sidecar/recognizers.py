"""Our corrections and additions to Presidio's pattern recognizers.

- US_SSN: area numbers 900-999 are never issued (Presidio accepts them).
- CREDIT_CARD: Mastercard's 2-series (BIN 2221-2720) is missing from Presidio's pattern;
  a Luhn-validated recognizer covers it.
- PHONE_NUMBER: national formats of the policy's `phone_regions`.
- IBAN_CODE: Presidio's case-insensitive pattern runs on into the next word
  ("iban=ES88 0081 ... amount") and then fails the checksum, losing the IBAN; ours takes
  the longest run of whole groups that passes mod-97 and the country's length.
- National identifiers Presidio ships but loads only for their own language (UK NINO,
  Spanish NIF, Italian codice fiscale, Canadian SIN, Indian Aadhaar) are loaded for the
  policy's language too: English text carries them.

Speed, with the same results: the phone recognizer scans once for all regions
(`phones.py`), and Presidio's pattern recognizers scan only the runs of text their
patterns can match in (`pattern_windows.py`).
"""

from __future__ import annotations

import re

from presidio_analyzer import (
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CaSinRecognizer,
    CreditCardRecognizer,
    EsNifRecognizer,
    InAadhaarRecognizer,
    ItFiscalCodeRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

from governance.policy import Detection
from sidecar.checksums import iban_valid
from sidecar.dates import find_dates
from sidecar.pattern_windows import windowed
from sidecar.phones import AnyRegionPhoneRecognizer

__all__ = [
    "AnyRegionPhoneRecognizer",
    "ExactIbanRecognizer",
    "StrictUsSsnRecognizer",
    "WrittenDateRecognizer",
    "install",
]

_NATIONAL_IDS = (
    UkNinoRecognizer,
    EsNifRecognizer,
    ItFiscalCodeRecognizer,
    CaSinRecognizer,
    InAadhaarRecognizer,
)


class StrictUsSsnRecognizer(UsSsnRecognizer):
    """Presidio's SSN rules plus: area numbers 900-999 are not SSNs."""

    def invalidate_result(self, pattern_text: str) -> bool:
        if super().invalidate_result(pattern_text):
            return True
        digits = "".join(c for c in pattern_text if c.isdigit())
        return len(digits) >= 3 and digits[0] == "9"


def _mastercard_2_series() -> CreditCardRecognizer:
    pattern = Pattern(
        "Mastercard 2-series",
        r"\b2(?:22[1-9]|2[3-9]\d|[3-6]\d{2}|7[01]\d|720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
        0.3,
    )
    return CreditCardRecognizer(patterns=[pattern], name="MastercardSeries2Recognizer")


# Country code, check digits, then groups of letters/digits (spaced or not).
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}\d{2})((?:[ \-]?[A-Z0-9]{1,4}){3,9})")
# IBAN lengths by country (ISO 13616 registry), for the countries in Presidio's list.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


class ExactIbanRecognizer(EntityRecognizer):
    """IBANs by country length and mod-97, upper-case only, never running into the next
    word; complements Presidio's IbanRecognizer (both may find the same value)."""

    def __init__(self, supported_language: str) -> None:
        super().__init__(
            supported_entities=["IBAN_CODE"],
            name="ExactIbanRecognizer",
            supported_language=supported_language,
        )

    def load(self) -> None:
        """Nothing to load: the pattern and the length table are module constants
        (EntityRecognizer declares load abstract)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for match in _IBAN_CANDIDATE.finditer(text):
            length = _IBAN_LENGTHS.get(match.group(1)[:2])
            if length is None:
                continue
            compact = 0
            end = match.start(2)
            for group in re.finditer(r"[ \-]?([A-Z0-9]{1,4})", match.group(2)):
                compact += len(group.group(1))
                if 4 + compact > length:
                    break
                end = match.start(2) + group.end()
                if 4 + compact == length:
                    value = re.sub(r"[ \-]", "", text[match.start() : end])
                    if iban_valid(value):
                        results.append(RecognizerResult("IBAN_CODE", match.start(), end, 1.0))
                    break
        return results


class WrittenDateRecognizer(EntityRecognizer):
    """DATE_TIME by pattern; replaces Presidio's numeric-only DateRecognizer."""

    SCORE = 0.6

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=["DATE_TIME"],
            name="WrittenDateRecognizer",
            supported_language=supported_language,
        )

    def load(self) -> None:
        """Nothing to load: the pattern is compiled at import (EntityRecognizer declares
        load abstract)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            RecognizerResult("DATE_TIME", start, end, self.SCORE) for start, end in find_dates(text)
        ]


def _compact_dates(language: str) -> PatternRecognizer:
    """YYYYMMDD dates right after a birth word ("BDAY:19800101", "dob=19800101"): alone
    they are too common as plain numbers to count. Presidio compiles with the `regex`
    module, whose look-behind may vary in length."""
    return PatternRecognizer(
        supported_entity="DATE_TIME",
        name="CompactDateRecognizer",
        supported_language=language,
        patterns=[
            Pattern(
                "yyyymmdd",
                r"(?<=\b(?:dob|bday|birth\w*|born|geb\w*)\W{1,3})"
                r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)",
                0.6,
            )
        ],
    )


def _replace(registry: RecognizerRegistry, name: str, recognizer: EntityRecognizer) -> None:
    names = {str(getattr(r, "name", "")) for r in registry.recognizers}
    if name in names:
        registry.remove_recognizer(name)
    registry.add_recognizer(recognizer)


def install(registry: RecognizerRegistry, detection: Detection) -> None:
    """Swap our corrected recognizers into a loaded Presidio registry, add the others."""
    language = detection.language
    _replace(registry, "UsSsnRecognizer", StrictUsSsnRecognizer(supported_language=language))
    _replace(
        registry,
        "PhoneRecognizer",
        AnyRegionPhoneRecognizer(
            supported_language=language, supported_regions=tuple(detection.phone_regions)
        ),
    )
    registry.add_recognizer(_mastercard_2_series())
    registry.add_recognizer(ExactIbanRecognizer(language))
    _replace(registry, "DateRecognizer", WrittenDateRecognizer(supported_language=language))
    registry.add_recognizer(_compact_dates(language))
    present = {e for r in registry.recognizers for e in r.supported_entities}
    for recognizer in _NATIONAL_IDS:
        instance = recognizer(supported_language=language)
        if not present.intersection(instance.supported_entities):
            registry.add_recognizer(instance)
    # Presidio's pattern recognizers, scanning only where their patterns can match.
    registry.recognizers = [windowed(r) for r in registry.recognizers]
