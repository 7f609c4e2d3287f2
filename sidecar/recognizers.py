"""Our corrections and additions to Presidio's pattern recognizers.

- US_SSN: area numbers 900-999 are never issued (Presidio accepts them).
- CREDIT_CARD: Mastercard's 2-series (BIN 2221-2720) is missing from Presidio's pattern;
  a Luhn-validated recognizer covers it.
- PHONE_NUMBER: national formats of the policy's `phone_regions`.
- National identifiers Presidio ships but loads only for their own language (UK NINO,
  Spanish NIF, Italian codice fiscale, Canadian SIN, Indian Aadhaar) are loaded for the
  policy's language too: English text carries them.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, Pattern, RecognizerRegistry
from presidio_analyzer.predefined_recognizers import (
    CaSinRecognizer,
    CreditCardRecognizer,
    EsNifRecognizer,
    InAadhaarRecognizer,
    ItFiscalCodeRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

from governance.policy import Detection

__all__ = ["StrictUsSsnRecognizer", "install"]

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
        PhoneRecognizer(
            supported_language=language, supported_regions=tuple(detection.phone_regions)
        ),
    )
    registry.add_recognizer(_mastercard_2_series())
    present = {e for r in registry.recognizers for e in r.supported_entities}
    for recognizer in _NATIONAL_IDS:
        instance = recognizer(supported_language=language)
        if not present.intersection(instance.supported_entities):
            registry.add_recognizer(instance)
