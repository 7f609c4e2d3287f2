"""The labelled corpus: deterministic, well-formed, complete labels, valid ids, clean negatives.

Checksums are re-implemented here from their standards (with published vectors) rather than
imported from the generator, so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import collections
import ipaddress
import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import evaluation.generate.__main__ as cli
from evaluation.generate.build import generate
from evaluation.generate.obfuscate import APPLIES, KINDS, key, transform, undo
from evaluation.generate.render import Builder
from evaluation.generate.values import Persona
from evaluation.labels import PARTS, Doc, read_corpus

ROOT = Path(__file__).resolve().parents[2]
ENTITIES = frozenset(
    (
        "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "UK_NHS", "UK_NINO",
        "ES_NIF", "IT_FISCAL_CODE", "CA_SIN", "IN_AADHAAR", "IBAN_CODE", "IP_ADDRESS", "LOCATION",
        "DATE_TIME", "URL",
    )
)  # fmt: skip
PLAIN = ("", "stream_split")


@pytest.fixture(scope="module")
def committed() -> list[Doc]:
    return list(read_corpus(cli.CORPUS))


@pytest.fixture(scope="module")
def fresh() -> list[Doc]:
    return generate(seed=cli.SEED)


# --- determinism -----------------------------------------------------------------------


def test_generation_matches_committed_file(fresh: list[Doc], committed: list[Doc]) -> None:
    """Generating in this process gives exactly the documents in the committed file."""
    assert fresh == committed


def test_check_passes_in_another_process() -> None:
    """`--check` regenerates byte for byte in a process with other hash randomisation."""
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    done = subprocess.run(
        [sys.executable, "-m", "evaluation.generate", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_check_fails_on_a_changed_file(
    fresh: list[Doc], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--check` exits 1 when one byte of the file differs."""
    monkeypatch.setattr(cli, "generate", lambda seed: fresh)
    copy = tmp_path / "corpus.jsonl"
    data = cli.CORPUS.read_bytes()
    copy.write_bytes(data)
    assert cli.main(["--check", "--out", str(copy)]) == 0
    copy.write_bytes(data.replace(b"realistic-00001", b"realistic-00OO1", 1))
    assert cli.main(["--check", "--out", str(copy)]) == 1


# --- shape -------------------------------------------------------------------------------


def test_ids_unique_and_parts_sized(committed: list[Doc]) -> None:
    """Ids are unique; each part has about the planned number of documents."""
    assert len({d.id for d in committed}) == len(committed)
    sizes = collections.Counter(d.part for d in committed)
    assert sizes == {"realistic": 600, "adversarial": 600, "negative": 350}


def test_spans_within_text_non_empty_and_disjoint(committed: list[Doc]) -> None:
    """Every span is a known entity, non-empty, inside the text and overlaps no other."""
    for doc in committed:
        spans = sorted(doc.spans, key=lambda s: s.start)
        for span in spans:
            assert span.entity in ENTITIES, doc.id
            assert 0 <= span.start < span.end <= len(doc.text), doc.id
            assert doc.value(span).strip(), doc.id
            assert span.obfuscation in ("", *KINDS), doc.id
            if doc.part != "adversarial":
                assert span.obfuscation == "", doc.id
        for a, b in itertools.pairwise(spans):
            assert a.end <= b.start, doc.id


def _fold(text: str) -> str:
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def test_every_copy_of_a_labelled_value_is_labelled(committed: list[Doc]) -> None:
    """A labelled value's text (any case) occurs nowhere outside a span: no leak goes unseen."""
    for doc in committed:
        folded = _fold(doc.text)
        for value in {_fold(doc.value(s)) for s in doc.spans}:
            for match in re.finditer(re.escape(value), folded):
                assert any(s.start <= match.start() and match.end() <= s.end for s in doc.spans), (
                    doc.id,
                    match.start(),
                )


def test_no_placeholders_in_text(committed: list[Doc]) -> None:
    """No text already holds a redaction placeholder such as <PERSON>."""
    for doc in committed:
        assert not any(f"<{entity}>" in doc.text for entity in ENTITIES), doc.id


def test_realistic_labels_cover_every_entity_type(committed: list[Doc]) -> None:
    """The realistic part plants every entity type, PERSON from many name cultures."""
    seen = collections.Counter(
        s.entity for d in committed if d.part == "realistic" for s in d.spans
    )
    assert set(seen) == ENTITIES
    assert min(seen.values()) >= 15


# --- checksums ---------------------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum()).upper()


def _luhn(number: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(number)):
        digit = int(ch) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


_VERHOEFF_D = (
    "0123456789", "1234067895", "2340178956", "3401289567", "4012395678",
    "5987604321", "6598710432", "7659821043", "8765932104", "9876543210",
)  # fmt: skip
_VERHOEFF_P = (
    "0123456789", "1576283094", "5803796142", "8916043527",
    "9453126870", "4286573901", "2793806415", "7046913258",
)  # fmt: skip


def _verhoeff(number: str) -> bool:
    check = 0
    for index, ch in enumerate(reversed(number)):
        check = int(_VERHOEFF_D[check][int(_VERHOEFF_P[index % 8][int(ch)])])
    return check == 0


def _mod97(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _nhs(number: str) -> bool:
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11
    return len(number) == 10 and check != 10 and check % 11 == int(number[9])


def _ssn(number: str) -> bool:
    area, group, serial = number[:3], number[3:5], number[5:]
    return (
        len(number) == 9
        and area not in ("000", "666")
        and area[0] != "9"
        and group != "00"
        and serial != "0000"
    )


_IT_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
    6, 8, 12, 14, 16, 10, 22, 25, 24, 23), strict=True))  # fmt: skip


def _fiscal(code: str) -> bool:
    total = sum(
        _IT_ODD[ch] if i % 2 == 0 else (int(ch) if ch.isdigit() else ord(ch) - 65)
        for i, ch in enumerate(code[:15])
    )
    return len(code) == 16 and chr(65 + total % 26) == code[15]


CHECKS = {
    "CREDIT_CARD": lambda v: 13 <= len(v) <= 19 and _luhn(v),
    "CA_SIN": lambda v: len(v) == 9 and v[0] in "1234567" and _luhn(v),
    "IN_AADHAAR": lambda v: len(v) == 12 and v[0] in "23456789" and _verhoeff(v),
    "IBAN_CODE": _mod97,
    "UK_NHS": _nhs,
    "US_SSN": _ssn,
    "ES_NIF": lambda v: len(v) == 9 and "TRWAGMYFPDXBNJZSQVHLCKE"[int(v[:8]) % 23] == v[8],
    "UK_NINO": lambda v: re.fullmatch(r"[A-CEGHJ-PR-TW-Z]{2}\d{6}[A-D]", v) is not None,
    "IT_FISCAL_CODE": _fiscal,
}


def test_checksum_implementations_accept_published_examples() -> None:
    """The test-side checks agree with published valid numbers."""
    assert CHECKS["CREDIT_CARD"]("4111111111111111")
    assert CHECKS["IBAN_CODE"]("GB82WEST12345698765432")
    assert CHECKS["UK_NHS"]("9434765919")
    assert CHECKS["ES_NIF"]("12345678Z")
    assert _verhoeff("2363")
    assert not _verhoeff("2364")
    assert CHECKS["CA_SIN"]("046454286") is False  # first digit 0 is not issued
    assert _luhn("046454286")


def _plain_value(doc: Doc, span_index: int) -> str | None:
    """The planted value behind a span, or None when its rendering cannot be undone exactly."""
    span = doc.spans[span_index]
    rendered = doc.value(span)
    if span.obfuscation in PLAIN:
        return rendered
    if span.obfuscation == "base64":
        decoded = undo("base64", rendered)
        return decoded if "=" not in decoded and " " not in decoded.strip() else None
    return undo(span.obfuscation, rendered)


def test_structured_ids_pass_their_checksums(committed: list[Doc]) -> None:
    """Cards, SIN (Luhn), IBAN (mod-97), SSN, NHS (mod-11), Aadhaar (Verhoeff), NIF, NINO and
    fiscal codes are valid, plain or once their obfuscation is undone."""
    checked: collections.Counter[str] = collections.Counter()
    for doc in committed:
        for index, span in enumerate(doc.spans):
            if span.entity not in CHECKS:
                continue
            value = _plain_value(doc, index)
            if value is None:
                continue
            assert CHECKS[span.entity](_digits(value)), (doc.id, span)
            checked[span.entity] += 1
    assert set(checked) == set(CHECKS)


def _valid_phone(text: str) -> bool:
    for region in ("US", "GB", "DE", "FR", "ES", "IN", "BR"):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and (
            text.startswith("+") or phonenumbers.region_code_for_number(number) == region
        ):
            return True
    return False


def test_plain_phone_numbers_are_valid(committed: list[Doc]) -> None:
    """Phone numbers that are not obfuscated are valid per libphonenumber."""
    phones = [
        d.value(s)
        for d in committed
        for s in d.spans
        if s.entity == "PHONE_NUMBER" and s.obfuscation in PLAIN
    ]
    assert len(phones) > 500
    assert all(_valid_phone(p) for p in phones), [p for p in phones if not _valid_phone(p)][:5]


def test_ip_addresses_parse(committed: list[Doc]) -> None:
    """Plain IP_ADDRESS spans are IPv4 or IPv6 addresses, both kinds present."""
    versions: collections.Counter[int] = collections.Counter()
    for doc in committed:
        for span in doc.spans:
            if span.entity == "IP_ADDRESS" and span.obfuscation in PLAIN:
                versions[ipaddress.ip_address(doc.value(span)).version] += 1
    assert versions[4] > 50
    assert versions[6] > 50


# --- adversarial ---------------------------------------------------------------------------


def test_every_obfuscation_kind_on_forty_values(committed: list[Doc]) -> None:
    """Each obfuscation appears on 40+ values, spread over the entity types it applies to."""
    spans = [s for d in committed for s in d.spans if s.obfuscation]
    counts = collections.Counter(s.obfuscation for s in spans)
    assert set(counts) == set(KINDS)
    assert min(counts.values()) >= 40, counts
    for kind in KINDS:
        entities = {s.entity for s in spans if s.obfuscation == kind}
        assert len(entities) >= min(3, len(APPLIES[kind])), kind


def test_stream_chunks_sum_to_text_and_cut_every_value(committed: list[Doc]) -> None:
    """Stream documents are fed in 1-40 char chunks, with a cut strictly inside every value."""
    streamed = [d for d in committed if d.chunks]
    assert len(streamed) >= 30
    for doc in streamed:
        assert sum(doc.chunks) == len(doc.text), doc.id
        assert all(1 <= c <= 40 for c in doc.chunks), doc.id
        cuts, at = set(), 0
        for size in doc.chunks:
            at += size
            cuts.add(at)
        for span in doc.spans:
            assert span.obfuscation == "stream_split", doc.id
            assert any(span.start < cut < span.end for cut in cuts), (doc.id, span)
    for doc in committed:
        if any(s.obfuscation == "stream_split" for s in doc.spans):
            assert doc.chunks, doc.id


# --- negatives -----------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w+")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def test_negatives_hold_nothing_personal(committed: list[Doc]) -> None:
    """Negative documents have no spans, no e-mail, IPv4 or US/UK phone-like strings."""
    negatives = [d for d in committed if d.part == "negative"]
    for doc in negatives:
        assert not doc.spans, doc.id
        assert not _EMAIL.search(doc.text), doc.id
        for match in _IPV4.finditer(doc.text):
            with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
                ipaddress.ip_address(match.group())
        for region in ("US", "GB"):
            found = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(doc.text, region)]
            assert not found, (doc.id, found)


def test_negatives_include_the_hard_cases(committed: list[Doc]) -> None:
    """Name-like words, versions, UUIDs, hashes and public URLs all appear in negatives."""
    text = "\n".join(d.text for d in committed if d.part == "negative")
    for needle in ("Will ", "Mark ", "Grant ", "Bill ", "Rose ", "Jasmine", "https://docs."):
        assert needle in text, needle
    assert re.search(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-", text)
    assert re.search(r"\b[0-9a-f]{64}\b", text)
    assert re.search(r"\bv\d+\.\d+\.\d+-rc\d\b", text)


# --- held-out and sizes ----------------------------------------------------------------------


def test_heldout_families_are_separate_and_in_every_part(committed: list[Doc]) -> None:
    """Held-out templates never share a name with tuning ones; each part has ~20% of them."""
    heldout = {d.template for d in committed if d.heldout}
    tuning = {d.template for d in committed if not d.heldout}
    assert not heldout & tuning
    assert all(name.startswith("heldout.") for name in heldout)
    assert not any(name.startswith("heldout.") for name in tuning)
    for part in PARTS:
        docs = [d for d in committed if d.part == part]
        share = sum(d.heldout for d in docs) / len(docs)
        assert 0.1 <= share <= 0.35, (part, share)


def test_sizes_follow_the_plan(committed: list[Doc]) -> None:
    """Realistic: mostly 200 B-3 KB, some 5-20 KB; adversarial short; total 0.8-1.6 MB."""
    sizes: dict[str, list[int]] = collections.defaultdict(list)
    for doc in committed:
        sizes[doc.part].append(len(doc.text.encode()))
    real = sizes["realistic"]
    assert sum(150 <= n <= 3200 for n in real) >= 0.75 * len(real)
    assert sum(n >= 5000 for n in real) >= 15
    assert max(real) <= 20_500
    adversarial = sizes["adversarial"]
    assert sum(n <= 800 for n in adversarial) >= 0.95 * len(adversarial)
    assert all(200 <= n <= 5000 for n in sizes["negative"])
    assert 800_000 <= sum(map(sum, sizes.values())) <= 1_600_000


# --- transforms (property) -----------------------------------------------------------------

_SLOTS = {
    "PERSON": "name", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
    "US_SSN": "ssn", "UK_NHS": "nhs", "UK_NINO": "nino", "ES_NIF": "nif", "IT_FISCAL_CODE": "cf",
    "CA_SIN": "sin", "IN_AADHAAR": "aadhaar", "IBAN_CODE": "iban", "IP_ADDRESS": "ip",
    "LOCATION": "street",
}  # fmt: skip
_PAIRS = [(kind, entity) for kind, entities in APPLIES.items() for entity in entities]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pair=st.sampled_from(_PAIRS),
    seed=st.integers(0, 2**32),
    prefix=st.text(max_size=8),
    sep=st.sampled_from((" | ", ",", "\t")),
)
def test_transform_span_maps_the_rendering(
    pair: tuple[str, str], seed: int, prefix: str, sep: str
) -> None:
    """For random values, the span covers exactly the rendering, and undoing it gives the value
    back (base64 of a sentence: contains it)."""
    kind, entity = pair
    rng = random.Random(seed)
    value = Persona(rng).value(_SLOTS[entity])
    try:
        rendered = transform(kind, value, rng, cell_sep=sep, cells=rng.choice((2, 3)))
    except ValueError:  # e.g. no letter with a look-alike: the generator re-draws
        assume(False)
        return
    out = Builder()
    out.lit(prefix)
    out.pii(entity, rendered, canonical=value, obfuscation=kind)
    out.lit(" end")
    span = out.spans()[0]
    assert out.text[span.start : span.end] == rendered
    back = key(undo(kind, rendered))
    if kind == "base64":
        assert key(value) in back
    elif kind == "spelled_digits":
        assert back == "".join(ch for ch in key(value) if ch.isdigit())
    else:
        assert back == key(value)
    if kind not in ("stream_split", "table_cells", "line_wrap", "mixed_case"):
        assert value not in out.text  # the plain value really is hidden


def test_base64_spans_decode(committed: list[Doc]) -> None:
    """Every base64 span is one whole base64 segment that decodes to UTF-8 text."""
    for doc in committed:
        for span in doc.spans:
            if span.obfuscation == "base64":
                text = doc.value(span)
                assert re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text), doc.id
                padded = text + "=" * (-len(text) % 4)
                base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode()
