"""Phone numbers of several regions in one scan of the text (`AnyRegionPhoneRecognizer`).

Presidio runs libphonenumber's matcher once per region: the text is scanned ten times,
and every run of digits (years, amounts, ids, dates) is parsed and validated for each
region. `_AnyRegionMatcher` scans once and tries a candidate region by region until one
accepts it (which region does not matter: the recognizer reports only where the number
is). Most candidates are no phone number of any region, and a parse and validation is
some 60 us a region, so a plain candidate (ASCII digits, spaces and `-./()[]`) is parsed
for a region only if the parse could give a valid number (`_Region.may_accept`): without
an international prefix, libphonenumber's national number is then one of a few suffixes
of the candidate's digits, and a valid one matches the general description of a region
of the country code (for a country code of one region: a number type of it). Where no
suffix does, the parse would have failed, and is skipped.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumber import CountryCodeSource
from phonenumbers.phonenumbermatcher import (
    _LEAD_PATTERN,
    _MATCHING_BRACKETS,
    _PUB_PAGES,
    Leniency,
    PhoneNumberMatch,
    _verify,
)
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    _maybe_strip_national_prefix_carrier_code,
    _number_type_helper,
    region_code_for_country_code,
)
from phonenumbers.re_util import re_compile
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

__all__ = ["AnyRegionPhoneRecognizer"]

# libphonenumber compiles its metadata's patterns anew on every use (re's own cache is
# too small for them all); this keeps each once. Same patterns, same answers.
phonenumbers.enable_pattern_cache()

_PHONE_MIN_DIGITS = 7
# Candidates of only these characters: for them libphonenumber's parse sees no '+', no
# extension, no letters (vanity numbers) and no RFC 3966 parameters, and the number it
# normalises is the candidate's ASCII digits.
_PLAIN = re.compile(r"[0-9 \-./()\[\]]*")
_NOT_DIGITS = re.compile(r"[^0-9]+")


class _Region:
    """What parsing a plain candidate for one region can give (see `may_accept`)."""

    def __init__(self, region: str) -> None:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            raise ValueError(f"no phone metadata for region {region!r}")
        if metadata.country_code is None:
            raise ValueError(f"no country code for region {region!r}")
        self.metadata = metadata
        self.country_code = str(metadata.country_code)
        # parse() formats the number with the country's main region's data.
        main = region_code_for_country_code(metadata.country_code)
        main_metadata = (
            PhoneMetadata.metadata_for_region(main, None) if main != region else metadata
        )
        self.main_metadata = metadata if main_metadata is None else main_metadata
        self.always_parse = main_metadata is None
        self.idd = re.compile(metadata.international_prefix or "NonMatch")
        # A number is valid only if its national number matches the general description
        # (possible lengths and pattern) of one of its country code's regions: the
        # patterns by length (those without lengths in every entry).
        by_length: dict[int, list[re.Pattern[str]]] = {}
        any_length: list[re.Pattern[str]] = []
        for code in COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ()):
            other = PhoneMetadata.metadata_for_region(code, None)
            desc = None if other is None else other.general_desc
            if desc is None or not desc.national_number_pattern:
                continue
            pattern = re.compile(desc.national_number_pattern)
            for length in desc.possible_length or ():
                if pattern not in by_length.setdefault(length, []):
                    by_length[length].append(pattern)
            if not desc.possible_length and pattern not in any_length:
                any_length.append(pattern)
        self.general = {length: (*patterns, *any_length) for length, patterns in by_length.items()}
        self.any_length = tuple(any_length)
        # A country code of one region: the number is valid if its national number is of
        # a type of that region (what `is_valid_number` then tests).
        codes = COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())
        self.only = PhoneMetadata.metadata_for_region(codes[0], None) if len(codes) == 1 else None

    def may_accept(self, digits: str) -> bool:
        """False when no parse of a plain candidate with these digits for this region
        is a valid number.

        Without an international prefix (then: True) libphonenumber's national number is
        the digits, with the national prefix stripped or not, or, when they start with
        the region's country code, the rest with the national prefix stripped (for the
        region) or not, and then stripped (for the country's main region) or not.
        """
        if self.always_parse or self.idd.match(digits):
            return True
        valid = self._valid_national
        if valid(digits) or any(valid(n) for n in self._stripped(digits, self.metadata)):
            return True
        if digits.startswith(self.country_code):
            rest = digits[len(self.country_code) :]
            for number in (rest, *self._stripped(rest, self.metadata)):
                if valid(number) or any(
                    valid(n) for n in self._stripped(number, self.main_metadata)
                ):
                    return True
        return False

    @staticmethod
    def _stripped(number: str, metadata: PhoneMetadata) -> tuple[str, ...]:
        """What `_maybe_strip_national_prefix_carrier_code` may make of `number` besides
        leaving it: without a transform rule, `number` after its national prefix."""
        if metadata.national_prefix_transform_rule:
            stripped = _maybe_strip_national_prefix_carrier_code(number, metadata)[1]
            return (stripped,) if stripped != number else ()
        if not metadata.national_prefix_for_parsing or not number:
            return ()
        prefix = re_compile(metadata.national_prefix_for_parsing).match(number)
        return (number[prefix.end() :],) if prefix is not None and prefix.end() else ()

    def _valid_national(self, number: str) -> bool:
        """Whether `number` matches the general description of a region of this region's
        country code (which a valid national number does) and, if the country code has
        one region, a number type of it."""
        patterns = self.general.get(len(number), self.any_length)
        if not any(pattern.fullmatch(number) is not None for pattern in patterns):
            return False
        return (
            self.only is None or _number_type_helper(number, self.only) != PhoneNumberType.UNKNOWN
        )


_REGIONS: dict[str, _Region] = {}


def _region(code: str) -> _Region:
    region = _REGIONS.get(code)
    if region is None:
        region = _REGIONS[code] = _Region(code)
    return region


class _AnyRegionMatcher(phonenumbers.PhoneNumberMatcher):
    """libphonenumber's matcher over several regions in one pass.

    Presidio runs the matcher once per region: the text is scanned ten times, and every
    run of digits (years, amounts, ids) is parsed and validated for each region. For 2 KB
    of ordinary text that was some 600 parses, the largest single cost of detection
    (about 45 ms). This matcher scans once; a candidate is tried region by region until
    one accepts it, only once when it carries its own country code ("+44 ..."), and not
    at all when it has fewer than seven digits (no phone number the precision rules
    keep: `rules.py` drops them). The checks that do not depend on the region (brackets,
    page references, letters around the number) run once per candidate, and a region
    whose parse cannot give a valid number (`_Region.may_accept`) is not parsed.
    """

    def __init__(self, text: str, regions: tuple[str, ...], leniency: int) -> None:
        super().__init__(text, regions[0], leniency=leniency)
        self._regions = regions
        self._gates = tuple(_region(code) for code in regions)

    def _extract_match(self, candidate: str, offset: int) -> Any:
        if sum(c.isdigit() for c in candidate) < _PHONE_MIN_DIGITS:
            return None
        return super()._extract_match(candidate, offset)

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        # libphonenumber's checks before parsing, which are the same for every region.
        if not _MATCHING_BRACKETS.fullmatch(candidate) or _PUB_PAGES.search(candidate):
            return None
        text = self.text
        if self.leniency >= Leniency.VALID:
            if offset > 0 and not _LEAD_PATTERN.match(candidate):
                previous_char = text[offset - 1]
                if self._is_invalid_punctuation_symbol(previous_char) or self._is_latin_letter(
                    previous_char
                ):
                    return None
            last_char_index = offset + len(candidate)
            if last_char_index < len(text):
                next_char = text[last_char_index]
                if self._is_invalid_punctuation_symbol(next_char) or self._is_latin_letter(
                    next_char
                ):
                    return None
        if candidate.lstrip().startswith("+"):
            regions, gates = self._regions[:1], self._gates[:1]
        else:
            regions, gates = self._regions, self._gates
        # The gate needs a valid number (leniency VALID or stricter) and a plain candidate.
        digits = (
            _NOT_DIGITS.sub("", candidate)
            if self.leniency >= Leniency.VALID and _PLAIN.fullmatch(candidate)
            else None
        )
        for region, gate in zip(regions, gates, strict=True):
            if digits is not None and not gate.may_accept(digits):
                continue
            self.preferred_region = region
            try:
                numobj = phonenumbers.parse(candidate, region, keep_raw_input=True)
                if _verify(self.leniency, numobj, candidate, self):
                    numobj.country_code_source = CountryCodeSource.UNSPECIFIED
                    numobj.raw_input = None
                    numobj.preferred_domestic_carrier_code = None
                    return PhoneNumberMatch(offset, candidate, numobj)
            except NumberParseException:
                pass
        return None


class AnyRegionPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer (same regions, leniency, score and context) with
    `_AnyRegionMatcher`: one scan of the text instead of one per region."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        regions = tuple(self.supported_regions)
        if not regions:
            return []
        leniency = 1 if self.leniency is None else self.leniency
        results = [
            self._get_recognizer_result(  # type: ignore[no-untyped-call]
                match, text, regions[0], nlp_artifacts
            )
            for match in _AnyRegionMatcher(text, regions, leniency)
        ]
        return EntityRecognizer.remove_duplicates(results)
