"""Our corrections to Presidio's pattern recognizers, found by the detection tests.

- US_SSN: area numbers 900-999 are never issued (Presidio accepts them).
- CREDIT_CARD: Mastercard's 2-series (BIN 2221-2720) is missing from Presidio's pattern;
  a Luhn-validated recognizer covers it.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, RecognizerRegistry
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, UsSsnRecognizer

__all__ = ["StrictUsSsnRecognizer", "install"]


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


def install(registry: RecognizerRegistry) -> None:
    """Swap our corrected recognizers into a loaded Presidio registry."""
    names = {str(getattr(recognizer, "name", "")) for recognizer in registry.recognizers}
    if "UsSsnRecognizer" in names:
        registry.remove_recognizer("UsSsnRecognizer")
        registry.add_recognizer(StrictUsSsnRecognizer())
    registry.add_recognizer(_mastercard_2_series())
