"""Redaction: each action's output, overlap merging, output rendering, and properties.

Unit tables use hand-made findings so each action is checked exactly; the last property
runs the real detector and checks that no detected value survives redaction.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.policy import Policies, Policy, load_policies
from sidecar.detection import Finding, PresidioDetector, merge_overlaps
from sidecar.redaction import Placeholders, apply, render_output
from tests.conftest import HASH_KEY

ENTITIES = "[PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IBAN_CODE, IP_ADDRESS]"
POLICIES_TEXT = f"""\
version: "redaction-1"
default: pseudonymize
policies:
  pseudonymize:
    detection:
      entities: {ENTITIES}
    actions:
      default: pseudonymize
  replace:
    extends: pseudonymize
    actions: {{default: replace}}
  mask:
    extends: pseudonymize
    actions: {{default: {{action: mask, keep_last: 4}}}}
  mask_hash_char:
    extends: pseudonymize
    actions: {{default: {{action: mask, keep_last: 2, mask_char: "#"}}}}
  mask_none:
    extends: pseudonymize
    actions: {{default: {{action: mask, keep_last: 0}}}}
  hash:
    extends: pseudonymize
    actions: {{default: hash}}
  redact:
    extends: pseudonymize
    actions: {{default: redact}}
  no_restore:
    extends: pseudonymize
    inference: {{restore_output: false}}
  keep_new:
    extends: pseudonymize
    inference: {{new_output_entities: keep}}
"""
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture(scope="module")
def policies() -> Policies:
    return load_policies(POLICIES_TEXT)


def _findings(text: str, *spans: tuple[str, str]) -> list[Finding]:
    """Findings for (entity, value) pairs, each at the value's first occurrence after the last."""
    found: list[Finding] = []
    cursor = 0
    for entity, value in spans:
        start = text.index(value, cursor)
        found.append(Finding(entity, start, start + len(value), 0.9))
        cursor = start + len(value)
    return found


def _apply(
    text: str,
    policy: Policy,
    *spans: tuple[str, str],
    placeholders: Placeholders | None = None,
    key: bytes = HASH_KEY,
) -> str:
    return apply(
        text,
        _findings(text, *spans),
        policy,
        placeholders=placeholders if placeholders is not None else Placeholders(),
        hash_key=key,
    ).text


# --- actions ---------------------------------------------------------------------------


def test_apply_replace_writes_type(policies: Policies) -> None:
    """replace turns each value into `<TYPE>`; the rest of the text is untouched."""
    text = "Hi John Smith, mail john@example.com now."
    out = _apply(
        text,
        policies.get("replace"),
        ("PERSON", "John Smith"),
        ("EMAIL_ADDRESS", "john@example.com"),
    )
    assert out == "Hi <PERSON>, mail <EMAIL_ADDRESS> now."


def test_apply_reports_action_and_original_offsets(policies: Policies) -> None:
    """The applied entities name the action and index the text they were found in."""
    text = "Hi John Smith!"
    redacted = apply(
        text,
        _findings(text, ("PERSON", "John Smith")),
        policies.get("replace"),
        placeholders=Placeholders(),
        hash_key=HASH_KEY,
    )
    (applied,) = redacted.entities
    assert (applied.entity, applied.start, applied.end, applied.action) == (
        "PERSON",
        3,
        13,
        "replace",
    )


def test_apply_pseudonymize_same_value_same_placeholder(policies: Policies) -> None:
    """The same value gets the same `<TYPE_n>` each time; other values get the next number."""
    text = "John Smith met Jane Doe; John Smith left. Mail a@example.com."
    out = _apply(
        text,
        policies.get("pseudonymize"),
        ("PERSON", "John Smith"),
        ("PERSON", "Jane Doe"),
        ("PERSON", "John Smith"),
        ("EMAIL_ADDRESS", "a@example.com"),
    )
    assert out == "<PERSON_1> met <PERSON_2>; <PERSON_1> left. Mail <EMAIL_ADDRESS_1>."


def test_apply_pseudonymize_keeps_numbers_across_calls(policies: Policies) -> None:
    """One inference's placeholder map carries over between texts; a new map starts at 1."""
    policy = policies.get("pseudonymize")
    shared = Placeholders()
    first = _apply("Jane Doe here", policy, ("PERSON", "Jane Doe"), placeholders=shared)
    second = _apply(
        "Bob Ray and Jane Doe",
        policy,
        ("PERSON", "Bob Ray"),
        ("PERSON", "Jane Doe"),
        placeholders=shared,
    )
    fresh = _apply("Bob Ray", policy, ("PERSON", "Bob Ray"))
    assert (first, second, fresh) == ("<PERSON_1> here", "<PERSON_2> and <PERSON_1>", "<PERSON_1>")
    assert shared.value_of("<PERSON_2>") == "Bob Ray"


@pytest.mark.parametrize(
    ("entity", "spellings"),
    [
        (
            "PERSON",
            [
                "John Smith",
                "JOHN SMITH",
                "john  smith",
                "John\nSmith",
                "\uff4a\uff4f\uff48\uff4e \uff53\uff4d\uff49\uff54\uff48",
            ],
        ),
        ("EMAIL_ADDRESS", ["john.doe@example.com", "John.Doe@Example.COM"]),
        ("CREDIT_CARD", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"]),
        ("PHONE_NUMBER", ["(202) 555-0147", "202-555-0147", "202.555.0147", "202 555 0147"]),
        ("IBAN_CODE", ["DE89 3704 0044 0532 0130 00", "de89370400440532013000"]),
    ],
)
def test_apply_pseudonymize_spelling_variants_share_placeholder(
    policies: Policies, entity: str, spellings: list[str]
) -> None:
    """Case, white space and separator variants of one value share one placeholder."""
    text = " | ".join(spellings)
    out = _apply(text, policies.get("pseudonymize"), *[(entity, s) for s in spellings])
    assert out == " | ".join([f"<{entity}_1>"] * len(spellings))


@pytest.mark.parametrize(
    ("entity", "first", "second"),
    [
        ("EMAIL_ADDRESS", "john.doe@example.com", "johndoe@example.com"),
        ("EMAIL_ADDRESS", "j.o.h.n@example.com", "jo.hn@example.com"),
        ("IP_ADDRESS", "192.168.1.20", "192.168.12.0"),
        ("IP_ADDRESS", "10.1.23.4", "10.12.3.4"),
        ("PERSON", "Ann Lee", "Anne Lee"),
    ],
)
def test_apply_pseudonymize_distinct_values_distinct_placeholders(
    policies: Policies, entity: str, first: str, second: str
) -> None:
    """Values that differ (e-mails by a dot, IP addresses by where a dot sits) stay apart."""
    text = f"{first} and {second}"
    out = _apply(text, policies.get("pseudonymize"), (entity, first), (entity, second))
    assert out == f"<{entity}_1> and <{entity}_2>"


@pytest.mark.parametrize(
    ("policy", "value", "masked"),
    [
        ("mask", "4111 1111 1111 1111", "*" * 15 + "1111"),
        ("mask", "4111111111111111", "*" * 12 + "1111"),
        ("mask", "123456789", "*****6789"),
        ("mask", "12345678", "****5678"),
        ("mask", "1234567", "****567"),  # 4 would be more than half
        ("mask", "12345", "***45"),
        ("mask", "123", "**3"),
        ("mask", "1", "*"),
        ("mask_hash_char", "DE89370400440532013000", "#" * 20 + "00"),
        ("mask_hash_char", "abc", "##c"),
        ("mask_none", "4111111111111111", "*" * 16),
    ],
)
def test_apply_mask_keeps_last_n_at_most_half(
    policies: Policies, policy: str, value: str, masked: str
) -> None:
    """mask hides all but the last keep_last characters, and never shows more than half."""
    out = _apply(f"card [{value}] ok", policies.get(policy), ("CREDIT_CARD", value))
    assert out == f"card [{masked}] ok"
    mask_char = policies.get(policy).action_for("CREDIT_CARD").mask_char
    shown = len(masked.lstrip(mask_char))
    assert 2 * shown <= len(value)


def test_apply_mask_drops_invisible_characters(policies: Policies) -> None:
    """Invisible characters inside a masked value are masked away, not counted or shown."""
    value = "4111\u200b1111\u200d1111\u00ad1111"
    out = _apply(f"card {value} ok", policies.get("mask"), ("CREDIT_CARD", value))
    assert out == "card " + "*" * 12 + "1111 ok"


def test_apply_hash_is_keyed_and_deterministic(policies: Policies) -> None:
    """hash writes `<TYPE:16 hex>`: same value and key, same token; another key, another."""
    policy = policies.get("hash")
    value = "536-22-1234"
    one = _apply(value, policy, ("US_SSN", value))
    again = _apply(value, policy, ("US_SSN", value))
    other_key = _apply(value, policy, ("US_SSN", value), key=OTHER_KEY)
    other_value = _apply("536-22-1235", policy, ("US_SSN", "536-22-1235"))
    assert re.fullmatch(r"<US_SSN:[0-9a-f]{16}>", one), one
    assert re.fullmatch(r"<US_SSN:[0-9a-f]{16}>", other_key), other_key
    assert one == again
    assert one != other_key
    assert one != other_value


def test_apply_hash_same_for_spelling_variants_and_differs_by_type(policies: Policies) -> None:
    """Spelling variants of a value hash alike; the same text under another type does not."""
    policy = policies.get("hash")
    dashed = _apply("536-22-1234", policy, ("US_SSN", "536-22-1234"))
    spaced = _apply("536 22 1234", policy, ("US_SSN", "536 22 1234"))
    as_phone = _apply("536-22-1234", policy, ("PHONE_NUMBER", "536-22-1234"))
    assert dashed == spaced
    assert dashed.removeprefix("<US_SSN:") != as_phone.removeprefix("<PHONE_NUMBER:")


def test_apply_redact_removes_value(policies: Policies) -> None:
    """redact removes the value and leaves the text around it."""
    text = "Hi John Smith, card 4111 1111 1111 1111."
    out = _apply(
        text,
        policies.get("redact"),
        ("PERSON", "John Smith"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
    )
    assert out == "Hi , card ."


def test_apply_per_entity_action_and_default(shipped_policies: Policies) -> None:
    """The shipped chat policy applies each entity's own action, else its default."""
    text = "Ann Lee, 4111 1111 1111 1111, 536-22-1234, X12345678, EMP-123456"
    out = _apply(
        text,
        shipped_policies.default,
        ("PERSON", "Ann Lee"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("US_SSN", "536-22-1234"),
        ("US_PASSPORT", "X12345678"),
        ("EMPLOYEE_ID", "EMP-123456"),
    )
    assert re.fullmatch(
        r"<PERSON_1>, \*{15}1111, <US_SSN:[0-9a-f]{16}>, <US_PASSPORT>, <EMPLOYEE_ID>", out
    ), out


# --- overlaps --------------------------------------------------------------------------


def test_merge_overlaps_unions_overlapping_findings() -> None:
    """Overlapping findings become one span typed by the pattern match, not the NER label."""
    merged = merge_overlaps(
        [
            Finding("DATE_TIME", 12, 20, 0.85),
            Finding("PHONE_NUMBER", 5, 14, 0.4),
            Finding("PERSON", 30, 35, 0.85),
            Finding("PERSON", 35, 40, 0.85),  # adjacent, not overlapping: stays apart
            Finding("URL", 50, 50, 0.9),  # empty: covers nothing
        ]
    )
    assert merged == (
        Finding("PHONE_NUMBER", 5, 20, 0.85),
        Finding("PERSON", 30, 35, 0.85),
        Finding("PERSON", 35, 40, 0.85),
    )


def test_merge_overlaps_same_kind_highest_score_wins() -> None:
    """Between two pattern matches that overlap, the higher score names the union."""
    merged = merge_overlaps([Finding("URL", 0, 10, 0.5), Finding("EMAIL_ADDRESS", 3, 14, 1.0)])
    assert merged == (Finding("EMAIL_ADDRESS", 0, 14, 1.0),)


def test_merge_overlaps_contained_finding_absorbed() -> None:
    """A finding inside another adds nothing to its span."""
    merged = merge_overlaps([Finding("CREDIT_CARD", 0, 19, 1.0), Finding("DATE_TIME", 5, 9, 0.85)])
    assert merged == (Finding("CREDIT_CARD", 0, 19, 1.0),)


def test_apply_overlapping_findings_leave_no_character(policies: Policies) -> None:
    """Two overlapping findings are replaced once, as their union."""
    text = "call +49 30 901820 today"
    findings = [Finding("PHONE_NUMBER", 5, 18, 0.4), Finding("DATE_TIME", 12, 24, 0.85)]
    out = apply(
        text, findings, policies.get("replace"), placeholders=Placeholders(), hash_key=HASH_KEY
    )
    assert out.text == "call <PHONE_NUMBER>"


ENTITY_NAMES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD"]


@st.composite
def _text_and_findings(draw: st.DrawFn) -> tuple[str, list[Finding]]:
    text = draw(st.text(st.characters(codec="utf-8", exclude_characters="<>\x00"), max_size=60))
    size = len(text)
    findings = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, size))
        entity = draw(st.sampled_from(ENTITY_NAMES))
        score = draw(st.floats(0.0, 1.0))
        findings.append(Finding(entity, start, end, score))
    return text, findings


def _covered(findings: list[Finding], size: int) -> list[bool]:
    covered = [False] * size
    for finding in findings:
        for index in range(finding.start, finding.end):
            covered[index] = True
    return covered


@settings(max_examples=300)
@given(_text_and_findings())
def test_merge_overlaps_property_disjoint_union(case: tuple[str, list[Finding]]) -> None:
    """Merged findings are sorted, disjoint, cover exactly the input, and each holds its parts."""
    text, findings = case
    merged = merge_overlaps(findings)
    for before, after in itertools.pairwise(merged):
        assert before.end <= after.start
    assert all(m.start < m.end for m in merged)
    assert _covered(list(merged), len(text)) == _covered(findings, len(text))
    for finding in findings:
        if finding.end > finding.start:
            (home,) = [m for m in merged if m.start <= finding.start and finding.end <= m.end]
            assert home.score >= finding.score
    for m in merged:
        members = [f for f in findings if m.start <= f.start < f.end <= m.end]
        assert m.entity in {f.entity for f in members}
        assert m.score == max(f.score for f in members)


@settings(max_examples=300)
@given(_text_and_findings())
def test_apply_property_no_covered_character_survives(
    policies: Policies, case: tuple[str, list[Finding]]
) -> None:
    """After replace, the kept characters are exactly the uncovered ones, in order."""
    text, findings = case
    out = apply(
        text, findings, policies.get("replace"), placeholders=Placeholders(), hash_key=HASH_KEY
    ).text
    covered = _covered(findings, len(text))
    expected: list[str] = []
    for index, char in enumerate(text):
        if not covered[index]:
            expected.append(char)
        elif index == 0 or not covered[index - 1]:
            expected.append("\x00")
    skeleton = re.sub(r"(?:<[A-Z_]+>)+", "\x00", out)
    assert skeleton == "".join(expected)


# --- model output ----------------------------------------------------------------------


def _inference(policy: Policy) -> tuple[Placeholders, str]:
    """A placeholder map after the input of one inference, and the redacted input."""
    placeholders = Placeholders()
    text = "I am John Smith, mail john.doe@example.com"
    redacted = _apply(
        text,
        policy,
        ("PERSON", "John Smith"),
        ("EMAIL_ADDRESS", "john.doe@example.com"),
        placeholders=placeholders,
    )
    assert redacted == "I am <PERSON_1>, mail <EMAIL_ADDRESS_1>"
    return placeholders, redacted


def test_render_output_restores_placeholders_for_user(policies: Policies) -> None:
    """With restore_output, issued placeholders become the values for the user, not the log."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "Dear <PERSON_1>, I wrote to <EMAIL_ADDRESS_1>. Bye <PERSON_1>."
    rendered = render_output(output, [], policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == "Dear John Smith, I wrote to john.doe@example.com. Bye John Smith."
    assert rendered.logged_text == output


def test_render_output_keeps_placeholders_without_restore(policies: Policies) -> None:
    """Without restore_output the user sees the placeholders as the model wrote them."""
    policy = policies.get("no_restore")
    placeholders, _ = _inference(policy)
    output = "Dear <PERSON_1>, I wrote to <EMAIL_ADDRESS_1>."
    rendered = render_output(output, [], policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == output
    assert rendered.logged_text == output


def test_render_output_unknown_placeholder_not_restored(policies: Policies) -> None:
    """A placeholder this inference never issued (`<PERSON_9>`) is left as plain text."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "<PERSON_9> and <PERSON_1> and <EMAIL_ADDRESS_2>"
    rendered = render_output(output, [], policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == "<PERSON_9> and John Smith and <EMAIL_ADDRESS_2>"
    assert placeholders.value_of("<PERSON_9>") is None


def test_render_output_other_inference_placeholders_not_restored(policies: Policies) -> None:
    """Placeholders are restored only from their own inference's map."""
    policy = policies.get("pseudonymize")
    mine, _ = _inference(policy)
    theirs = Placeholders()
    _apply("Alice Wong", policy, ("PERSON", "Alice Wong"), placeholders=theirs)
    theirs.placeholder_for("PERSON", "Zed Ray")  # <PERSON_2> exists only there
    rendered = render_output(
        "<PERSON_1> <PERSON_2>", [], policy, placeholders=mine, hash_key=HASH_KEY
    )
    assert rendered.user_text == "John Smith <PERSON_2>"
    assert "Alice" not in rendered.user_text
    assert "Zed" not in rendered.user_text


def test_render_output_new_pii_gets_action(policies: Policies) -> None:
    """PII the model made up is replaced per its action, for the user and in the log."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "Ask Bob Jones at bob@example.com, <PERSON_1>."
    findings = _findings(output, ("PERSON", "Bob Jones"), ("EMAIL_ADDRESS", "bob@example.com"))
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.logged_text == "Ask <PERSON_2> at <EMAIL_ADDRESS_2>, <PERSON_1>."
    assert rendered.user_text == "Ask <PERSON_2> at <EMAIL_ADDRESS_2>, John Smith."
    assert [(a.entity, output[a.start : a.end]) for a in rendered.entities] == [
        ("PERSON", "Bob Jones"),
        ("EMAIL_ADDRESS", "bob@example.com"),
    ]


def test_render_output_repeated_new_pii_stays_replaced(policies: Policies) -> None:
    """A made-up value named twice is replaced both times, not shown the second time."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "Bob Jones met Bob Jones."
    findings = _findings(output, ("PERSON", "Bob Jones"), ("PERSON", "Bob Jones"))
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.logged_text == "<PERSON_2> met <PERSON_2>."
    assert rendered.user_text == "<PERSON_2> met <PERSON_2>."


def test_render_output_new_pii_stays_replaced_in_later_chunks(policies: Policies) -> None:
    """A made-up value replaced in one output piece is replaced again in the next one."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    first_text, second_text = "Ask Bob Jones.", "Bob Jones knows."
    first = render_output(
        first_text,
        _findings(first_text, ("PERSON", "Bob Jones")),
        policy,
        placeholders=placeholders,
        hash_key=HASH_KEY,
    )
    second = render_output(
        second_text,
        _findings(second_text, ("PERSON", "Bob Jones")),
        policy,
        placeholders=placeholders,
        hash_key=HASH_KEY,
    )
    assert first.user_text == "Ask <PERSON_2>."
    assert second.user_text == "<PERSON_2> knows."


def test_render_output_own_value_shown_to_user_only(policies: Policies) -> None:
    """The user's own value repeated by the model is shown to the user, logged as placeholder."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "Hello John Smith!"
    findings = _findings(output, ("PERSON", "John Smith"))
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == "Hello John Smith!"
    assert rendered.logged_text == "Hello <PERSON_1>!"


def test_render_output_own_value_replaced_without_restore(policies: Policies) -> None:
    """Without restore_output even the user's own value is replaced for the user."""
    policy = policies.get("no_restore")
    placeholders, _ = _inference(policy)
    output = "Hello John Smith!"
    findings = _findings(output, ("PERSON", "John Smith"))
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == "Hello <PERSON_1>!"


def test_render_output_keep_new_shows_new_pii_to_user(policies: Policies) -> None:
    """With new_output_entities: keep, made-up PII reaches the user but not the log."""
    policy = policies.get("keep_new")
    placeholders, _ = _inference(policy)
    output = "Ask Bob Jones."
    findings = _findings(output, ("PERSON", "Bob Jones"))
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert rendered.user_text == "Ask Bob Jones."
    assert rendered.logged_text == "Ask <PERSON_2>."


def test_render_output_finding_over_placeholder_spares_it(policies: Policies) -> None:
    """A finding that runs over an issued placeholder replaces only the text beside it."""
    policy = policies.get("pseudonymize")
    placeholders, _ = _inference(policy)
    output = "Dear <PERSON_1> Jones,"
    findings = [Finding("PERSON", 5, 21, 0.85)]  # "<PERSON_1> Jones"
    rendered = render_output(output, findings, policy, placeholders=placeholders, hash_key=HASH_KEY)
    assert "Jones" not in rendered.user_text
    assert "Jones" not in rendered.logged_text
    assert rendered.user_text.startswith("Dear John Smith")
    assert rendered.logged_text.startswith("Dear <PERSON_1>")


# --- the real detector -----------------------------------------------------------------

FILLER = [
    "the", "report", "was", "sent", "please", "check", "with", "about", "invoice",
    "and", "then", "thanks", "for", "your", "help", "my", "is", "write", "to", "ok",
]  # fmt: skip
VALUES = [
    "John Smith",
    "Maria Garcia",
    "Paris",
    "Berlin",
    "john.doe@example.com",
    "zq7.canary@example.org",
    "+1 202 555 0147",
    "(415) 555-2671",
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "DE89 3704 0044 0532 0130 00",
    "192.168.1.20",
    "https://www.example.com/path",
    "EMP-123456",
    "SSN 536-22-1234",
]
MIXED = st.lists(
    st.tuples(st.sampled_from(FILLER + VALUES), st.sampled_from([" ", ", ", ". ", "\n"])),
    min_size=1,
    max_size=12,
    unique_by=lambda piece: piece[0],
).map(lambda pieces: "".join(word + gap for word, gap in pieces).rstrip())


@settings(max_examples=40, deadline=None)
@given(MIXED)
def test_detect_and_apply_property_no_detected_value_survives(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    """Findings index the original text, and no detected value (4+ chars) survives redaction."""
    policy = shipped_policies.default
    findings = detector.detect(text, policy)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text), finding
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start
    redacted = apply(text, findings, policy, placeholders=Placeholders(), hash_key=HASH_KEY).text
    for finding in findings:
        value = text[finding.start : finding.end]
        if len(value.strip()) >= 4:
            assert value not in redacted, (finding.entity, value, redacted)
