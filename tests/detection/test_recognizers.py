"""Recognizers of the shipped policy: valid values are found, checksum-invalid ones are not.

Everything runs through the real detector (Presidio + spaCy) with the shipped policies.yaml;
offsets are checked against the original text.
"""

from __future__ import annotations

import pytest
import yaml

from governance.policy import Policies, load_policies
from sidecar.detection import Finding, PresidioDetector
from tests.conftest import SHIPPED_POLICIES, detector_for


def _detect(detector: PresidioDetector, policies: Policies, text: str) -> tuple[Finding, ...]:
    findings = detector.detect(text, policies.default)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text), finding
    return findings


def _values(findings: tuple[Finding, ...], text: str, entity: str) -> list[str]:
    return [text[f.start : f.end] for f in findings if f.entity == entity]


def _assert_found(
    detector: PresidioDetector, policies: Policies, text: str, value: str, entity: str
) -> None:
    findings = _detect(detector, policies, text)
    found = [(f.entity, text[f.start : f.end]) for f in findings]
    assert (entity, value) in found, found


def _assert_not_found(
    detector: PresidioDetector, policies: Policies, text: str, value: str, entity: str
) -> None:
    start = text.index(value)
    end = start + len(value)
    findings = _detect(detector, policies, text)
    overlapping = [f for f in findings if f.entity == entity and f.start < end and start < f.end]
    assert not overlapping, [(f.entity, text[f.start : f.end]) for f in overlapping]


CARDS_VALID = [
    ("visa-spaces", "4111 1111 1111 1111"),
    ("visa-dashes", "4111-1111-1111-1111"),
    ("visa-plain", "4111111111111111"),
    ("visa-plain-2", "4012888888881881"),
    ("mastercard-spaces", "5555 5555 5555 4444"),
    ("mastercard-dashes", "5555-5555-5555-4444"),
    ("mastercard-plain", "5555555555554444"),
    ("mastercard-2-series", "2223 0031 2200 3222"),
    ("amex-spaces", "3782 822463 10005"),
    ("amex-dashes", "3782-822463-10005"),
    ("amex-plain", "378282246310005"),
    ("amex-spaces-2", "3714 496353 98431"),
]
CARDS_LUHN_INVALID = [
    ("visa-spaces", "4111 1111 1111 1112"),
    ("visa-plain", "4012888888881882"),
    ("mastercard-spaces", "5555 5555 5555 4445"),
    ("mastercard-dashes", "5555-5555-5555-4440"),
    ("amex-plain", "378282246310006"),
    ("amex-spaces", "3782 822463 10004"),
]


@pytest.mark.parametrize("value", [v for _, v in CARDS_VALID], ids=[i for i, _ in CARDS_VALID])
def test_credit_card_luhn_valid_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """A Luhn-valid Visa, Mastercard or Amex number is a CREDIT_CARD with exact offsets."""
    text = f"Please charge my card {value} before Friday."
    _assert_found(detector, shipped_policies, text, value, "CREDIT_CARD")


@pytest.mark.parametrize(
    "value", [v for _, v in CARDS_LUHN_INVALID], ids=[i for i, _ in CARDS_LUHN_INVALID]
)
def test_credit_card_luhn_invalid_not_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """A card-shaped number failing the Luhn check is not reported as CREDIT_CARD."""
    text = f"Please charge my card {value} before Friday."
    _assert_not_found(detector, shipped_policies, text, value, "CREDIT_CARD")


IBANS_VALID = [
    ("de-grouped", "DE89 3704 0044 0532 0130 00"),
    ("de-plain", "DE89370400440532013000"),
    ("gb-grouped", "GB29 NWBK 6016 1331 9268 19"),
    ("gb-plain", "GB29NWBK60161331926819"),
    ("fr-grouped", "FR14 2004 1010 0505 0001 3M02 606"),
    ("fr-plain", "FR1420041010050500013M02606"),
    ("nl-grouped", "NL91 ABNA 0417 1643 00"),
    ("nl-plain", "NL91ABNA0417164300"),
]


def _one_digit_changed(iban: str) -> str:
    """The IBAN with its last digit changed: the mod-97 check then fails."""
    position = max(i for i, c in enumerate(iban) if c.isdigit())
    changed = str((int(iban[position]) + 1) % 10)
    return iban[:position] + changed + iban[position + 1 :]


@pytest.mark.parametrize("value", [v for _, v in IBANS_VALID], ids=[i for i, _ in IBANS_VALID])
def test_iban_valid_checksum_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """An IBAN with a valid mod-97 checksum is covered by an IBAN_CODE finding.

    The small spaCy model sometimes tags "IBAN <value>" as an ORGANIZATION; the merged
    finding then also covers the word before, and keeps the validated IBAN_CODE type.
    """
    text = f"Send the refund to IBAN {value} and more."
    start = text.index(value)
    findings = _detect(detector, shipped_policies, text)
    covering = [
        f
        for f in findings
        if f.entity == "IBAN_CODE" and f.start <= start and start + len(value) <= f.end
    ]
    assert covering, [(f.entity, text[f.start : f.end]) for f in findings]
    assert covering[0].start >= text.index("IBAN "), "nothing before the word IBAN is taken"


@pytest.mark.parametrize("value", [v for _, v in IBANS_VALID], ids=[i for i, _ in IBANS_VALID])
def test_iban_followed_by_a_word_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """In a log line the next word follows at once ("iban=<value> amount=..."): Presidio's
    case-insensitive pattern runs into it and fails the checksum; ours stops at the
    country's length."""
    text = f"INFO payout.created iban={value} amount=12.50 ref=INV-1"
    _assert_found(detector, shipped_policies, text, value, "IBAN_CODE")


@pytest.mark.parametrize("value", [v for _, v in IBANS_VALID], ids=[i for i, _ in IBANS_VALID])
def test_iban_one_digit_changed_not_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """The same IBAN with one digit changed fails mod-97 and is not an IBAN_CODE."""
    changed = _one_digit_changed(value)
    assert changed != value
    text = f"Send the refund to IBAN {changed} and more."
    _assert_not_found(detector, shipped_policies, text, changed, "IBAN_CODE")


SSNS_VALID = ["536-22-1234", "219-09-9999", "372-45-8901", "536 22 1234"]
SSNS_INVALID = [
    ("area-000", "000-22-1234"),
    ("area-666", "666-22-1234"),
    ("area-900", "900-22-1234"),
    ("area-987", "987-65-4321"),
    ("group-00", "536-00-1234"),
    ("serial-0000", "536-22-0000"),
]


@pytest.mark.parametrize("value", SSNS_VALID)
def test_us_ssn_valid_detected_in_context(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """A well-formed SSN next to the word SSN is a US_SSN with exact offsets."""
    text = f"My SSN is {value}."
    _assert_found(detector, shipped_policies, text, value, "US_SSN")


@pytest.mark.parametrize("value", [v for _, v in SSNS_INVALID], ids=[i for i, _ in SSNS_INVALID])
def test_us_ssn_never_issued_not_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """Area 000, 666 or 900-999, group 00 or serial 0000 is never an SSN, even beside "SSN"."""
    text = f"My SSN is {value}."
    _assert_not_found(detector, shipped_policies, text, value, "US_SSN")


EMAILS = [
    "john.doe@example.com",
    "zq7.canary@example.org",
    "a.b+tag@sub.example.co.uk",
    "jane_doe@example.co.uk",
    "first.last@mail.example.org",
]


@pytest.mark.parametrize("value", EMAILS)
def test_email_address_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """An e-mail address is an EMAIL_ADDRESS with exact offsets."""
    text = f"Write to {value} about the invoice."
    _assert_found(detector, shipped_policies, text, value, "EMAIL_ADDRESS")


def test_email_address_fragments_not_detected(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """A local part or a domain alone is not an EMAIL_ADDRESS."""
    text = "Not an address: john.doe@ or @example.com at all"
    assert _values(_detect(detector, shipped_policies, text), text, "EMAIL_ADDRESS") == []


PHONES = [
    ("us-parens", "(202) 555-0147"),
    ("us-dashes", "202-555-0147"),
    ("us-dots", "202.555.0147"),
    ("us-e164-spaces", "+1 202 555 0147"),
    ("us-e164-dashes", "+1-202-555-0147"),
    ("uk", "+44 20 7946 0958"),
    ("de", "+49 30 901820"),
    ("jp", "+81 3 1234 5678"),
]


@pytest.mark.parametrize("value", [v for _, v in PHONES], ids=[i for i, _ in PHONES])
def test_phone_number_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """A US or international phone number is a PHONE_NUMBER with exact offsets."""
    text = f"Please call {value} now."
    _assert_found(detector, shipped_policies, text, value, "PHONE_NUMBER")


IPS = [
    ("v4-private", "192.168.1.20"),
    ("v4-ten", "10.0.0.1"),
    ("v4-172", "172.16.254.1"),
    ("v6-full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("v6-loopback", "::1"),
    ("v6-link-local", "fe80::1ff:fe23:4567:890a"),
    ("v6-compressed-doc", "2001:db8::1"),
]


@pytest.mark.parametrize("value", [v for _, v in IPS], ids=[i for i, _ in IPS])
def test_ip_address_detected(
    detector: PresidioDetector, shipped_policies: Policies, value: str
) -> None:
    """An IPv4 or IPv6 address is an IP_ADDRESS with exact offsets."""
    text = f"The server at {value} is down."
    _assert_found(detector, shipped_policies, text, value, "IP_ADDRESS")


def test_ip_address_out_of_range_not_detected(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """An IPv4-shaped string with an octet above 255 is not an IP_ADDRESS."""
    text = "The server at 999.1.1.1 is down."
    _assert_not_found(detector, shipped_policies, text, "999.1.1.1", "IP_ADDRESS")


# Personal URLs: the shipped policy's urls.mode is `personal` (tests/detection/test_rules.py
# covers public ones, which it leaves alone).
URLS = [
    "https://www.example.com/users/jdoe?q=1",
    "https://www.linkedin.com/in/jane-doe",
    "http://example.com/~jdoe/cv.html",
    "https://janedoe.dev",
]


@pytest.mark.parametrize("value", URLS)
def test_url_detected(detector: PresidioDetector, shipped_policies: Policies, value: str) -> None:
    """A URL is a URL with exact offsets."""
    text = f"Visit {value} for details."
    _assert_found(detector, shipped_policies, text, value, "URL")


PEOPLE = [
    ("My name is John Smith and I live here.", "John Smith"),
    ("Please ask Maria Garcia about it.", "Maria Garcia"),
    ("Yesterday Barack Obama spoke.", "Barack Obama"),
    ("Alice Johnson sent the report.", "Alice Johnson"),
    ("Dear Jennifer Lopez, thanks.", "Jennifer Lopez"),
    ("I spoke with Michael Brown this morning.", "Michael Brown"),
]


@pytest.mark.parametrize(("text", "value"), PEOPLE)
def test_person_detected_in_sentence(
    detector: PresidioDetector, shipped_policies: Policies, text: str, value: str
) -> None:
    """A common full name in a sentence is a PERSON with exact offsets."""
    _assert_found(detector, shipped_policies, text, value, "PERSON")


PLACES = [
    ("I moved from Paris to Berlin last year.", "Paris"),
    ("I moved from Paris to Berlin last year.", "Berlin"),
    ("She lives in New York City.", "New York City"),
    ("We flew to London and Tokyo.", "London"),
    ("We flew to London and Tokyo.", "Tokyo"),
    ("The package went to Chicago.", "Chicago"),
    ("Sarah Connor lives in Los Angeles.", "Los Angeles"),
]


@pytest.mark.parametrize(("text", "value"), PLACES)
def test_location_city_detected(
    detector: PresidioDetector, shipped_policies: Policies, text: str, value: str
) -> None:
    """A city in a sentence is a LOCATION with exact offsets."""
    _assert_found(detector, shipped_policies, text, value, "LOCATION")


@pytest.mark.parametrize(
    "text",
    ["The employee badge EMP-123456 was lost.", "Contact EMP-123456 now.", "ID EMP-000001"],
)
def test_employee_id_custom_recognizer_detected(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    """The policy's EMPLOYEE_ID pattern finds EMP- plus six digits, with or without context."""
    value = next(word.rstrip(".") for word in text.split() if word.startswith("EMP-"))
    _assert_found(detector, shipped_policies, text, value, "EMPLOYEE_ID")


def test_employee_id_context_word_raises_score(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """A context word of the recognizer (employee, staff, badge) raises the finding's score."""
    with_context = "The employee badge EMP-123456 was lost."
    without = "Contact EMP-123456 now."
    (scored,) = [f.score for f in _detect(detector, shipped_policies, with_context)]
    (plain,) = [f.score for f in _detect(detector, shipped_policies, without)]
    assert scored > plain


@pytest.mark.parametrize(
    "text", ["Badge EMP-12345 is invalid.", "Badge EMP-1234567 is invalid.", "Badge XEMP-123456."]
)
def test_employee_id_wrong_shape_not_detected(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    """Five or seven digits, or a longer word ending in EMP-, is not an EMPLOYEE_ID."""
    assert _values(_detect(detector, shipped_policies, text), text, "EMPLOYEE_ID") == []


def _without_allow_list(text: str) -> Policies:
    data = yaml.safe_load(text)
    for body in data["policies"].values():
        body.get("detection", {}).pop("allow_list", None)
    return load_policies(yaml.safe_dump(data, sort_keys=False))


ALLOWED = [
    "Please contact support@acme.com for help.",
    "support@acme.com will call you.",
    "I wrote to support@acme.com yesterday.",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_allow_list_value_not_detected(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    """The allow-listed service address is not detected, though it is an e-mail address."""
    start = text.index("support@acme.com")
    end = start + len("support@acme.com")
    unlisted = _without_allow_list(SHIPPED_POLICIES.read_text(encoding="utf-8"))
    control = detector_for(unlisted).detect(text, unlisted.default)
    assert any(f.start <= start and end <= f.end for f in control)  # it would be redacted
    findings = _detect(detector, shipped_policies, text)
    assert not [f for f in findings if f.start < end and start < f.end]


def test_allow_list_keeps_other_names_detected(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """The allow-list spares only its exact value: another address beside it is still found."""
    text = "Please contact support@acme.com or john.smith@acme.com for help."
    found = _detect(detector, shipped_policies, text)
    assert _values(found, text, "EMAIL_ADDRESS") == ["john.smith@acme.com"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("BEGIN:VCARD\nBDAY:19800101\nFN:Jane Roe", "19800101"),
        ("GET /form?dob=19800101&plan=2", "19800101"),
        ("DOB 3rd March 1977, seen today", "3rd March 1977"),
    ],
)
def test_birth_dates_in_compact_or_ordinal_forms_detected(
    detector: PresidioDetector, shipped_policies: Policies, text: str, value: str
) -> None:
    _assert_found(detector, shipped_policies, text, value, "DATE_TIME")


@pytest.mark.parametrize("text", ["order 19800101 shipped", "build 20240105 is green"])
def test_compact_numbers_without_a_birth_word_not_dates(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    assert _values(_detect(detector, shipped_policies, text), text, "DATE_TIME") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Patient: Jane Doe\nDOB: 03 MAR 1984\n", "03 MAR 1984"),
        ("Jane Doe was born on Sat 3 Mar 1984.", "Sat 3 Mar 1984"),
        ("Jane Doe, geboren am 3. März 1984", "3. März 1984"),
        ("Jane Doe was born on 03.03.1984.", "03.03.1984"),  # a date, not a phone number
    ],
)
def test_written_dates_detected_in_a_text_about_a_person(
    detector: PresidioDetector, shipped_policies: Policies, text: str, value: str
) -> None:
    _assert_found(detector, shipped_policies, text, value, "DATE_TIME")


def test_ner_person_spans_stop_at_the_line_end(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    # The model labels "Jane Doe\nDOB" a person; the finding is the name alone.
    text = "Patient: Jane Doe\nDOB: 03 MAR 1984\n"
    assert _values(_detect(detector, shipped_policies, text), text, "PERSON") == ["Jane Doe"]


def test_dates_in_texts_without_personal_data_are_left(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    text = "## 2.4.0 (3 Mar 2024)\n- fix: retry on timeout\n"
    assert _detect(detector, shipped_policies, text) == ()


def test_one_scan_over_all_regions_finds_what_presidio_finds_per_region(
    shipped_policies: Policies,
) -> None:
    """The phone recognizer scans once for every region of the policy; Presidio's scans
    once per region. On national and international numbers of every region, prose, ids
    and dates they agree (numbers of fewer than seven digits aside: the rules drop those)."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from sidecar.recognizers import AnyRegionPhoneRecognizer

    regions = tuple(shipped_policies.default.detection.phone_regions)
    ours = AnyRegionPhoneRecognizer(supported_regions=regions)
    theirs = PhoneRecognizer(supported_regions=regions)
    numbers = [value for _, value in PHONES] + [
        "020 7946 0958", "030 901820", "01 23 45 67 89", "612 34 56 78", "06 12345678",
        "98765 43210", "(11) 91234-5678", "(416) 555-0199", "+34 912 345 678",
    ]  # fmt: skip
    text = (
        "Call " + ", or ".join(numbers) + ". Order 2024-0001, invoice 88213, born 12.03.1981,"
        " card 4111 1111 1111 1111, build 20240105, v2.14.1, amount 1,234,567.89"
    )

    def spans(recognizer: PhoneRecognizer) -> set[tuple[int, int]]:
        return {
            (r.start, r.end)
            for r in recognizer.analyze(text, ["PHONE_NUMBER"])
            if sum(c.isdigit() for c in text[r.start : r.end]) >= 7
        }

    assert spans(ours) == spans(theirs)
    assert len(spans(ours)) >= len(numbers) - 2
