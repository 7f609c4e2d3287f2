"""Precision rules: person-linked dates, personal URLs, and number lookalikes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.policy import DateRules, Detection, LookalikeRules, UrlRules
from sidecar.finding import Finding
from sidecar.rules import PrecisionRules, plausible_ner

DEFAULT = PrecisionRules(Detection(entities=("PERSON",)))


def _kept(text: str, value: str, entity: str, rules: PrecisionRules = DEFAULT) -> bool:
    start = text.index(value)
    finding = Finding(entity, start, start + len(value), 0.9)
    kept = rules.apply(text, [finding])
    # Kept, maybe without surrounding white space: never grown, never moved elsewhere.
    assert all(finding.start <= k.start < k.end <= finding.end for k in kept)
    assert all(text[k.start : k.end] == value.strip() for k in kept if entity != "URL")
    return len(kept) == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Pt Jane Roe, DOB 12/03/1981, MRN 55", "12/03/1981"),
        ("Date of birth: 1981-03-12", "1981-03-12"),
        ("He was born on 3 May 1975 in a small town.", "3 May 1975"),
        ("12/03/1981 (DOB) on file", "12/03/1981"),
        ("Admitted 2024-02-02 with chest pain", "2024-02-02"),
        ("Hire date: 2019-07-01, grade 7", "2019-07-01"),
        ("Patient seen at the clinic, visit 2024-02-02", "2024-02-02"),
        ("Date of birth: 12.09.1949", "12.09.1949"),
        ("What is the date of birth on file?\n[00:03:01] Caller: It's 1971-03-28.", "1971-03-28"),
        ("Fecha de nacimiento: 03/04/1948", "03/04/1948"),
        # The NER model's date spans often end in line breaks.
        ("Assunzione: June 23, 2019\n\nScheda dipendente", "June 23, 2019\n\n"),
    ],
)
def test_dates_tied_to_a_person_are_kept(text: str, value: str) -> None:
    assert _kept(text, value, "DATE_TIME")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-01-05T10:22:01.123Z INFO started worker", "2024-01-05T10:22:01.123Z"),
        ("## 2.4.0 (2024-03-18)\n- fix: retry on timeout", "2024-03-18"),
        ("The invoice was issued on 4 March 2024.", "4 March 2024"),
        ("Effective 2024-05-01 the old endpoint is removed.", "2024-05-01"),
        ("device last seen 2024-05-01 10:00", "2024-05-01"),
        # A cue two lines up does not reach this date; one line up only reaches a date
        # early on its line.
        ("born in the cloud\nrelease train\n2024-06-01 deploy", "2024-06-01"),
        (
            "born in the cloud\nthe release train left the station, twelve minutes late,"
            " on 2024-06-01",
            "2024-06-01",
        ),
        # "age" is a cue word, "page" and "usage" are not.
        ("usage report for 2024-06-01", "2024-06-01"),
    ],
)
def test_dates_not_tied_to_a_person_are_dropped(text: str, value: str) -> None:
    assert not _kept(text, value, "DATE_TIME")


def test_dates_mode_all_keeps_every_date() -> None:
    rules = PrecisionRules(Detection(entities=("DATE_TIME",), dates=DateRules(mode="all")))
    assert _kept("## 2.4.0 (2024-03-18)", "2024-03-18", "DATE_TIME", rules)


def test_date_cues_are_configurable() -> None:
    rules = PrecisionRules(
        Detection(entities=("DATE_TIME",), dates=DateRules(cues=("geboren",), window_chars=20))
    )
    assert _kept("geboren am 1980-01-02", "1980-01-02", "DATE_TIME", rules)
    assert not _kept("DOB 1980-01-02", "1980-01-02", "DATE_TIME", rules)
    # Beyond the window the cue does not count.
    assert not _kept("geboren " + "x" * 30 + " 1980-01-02", "1980-01-02", "DATE_TIME", rules)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/in/jane-roe-1234",
        "https://github.com/janeroe",
        "https://x.com/janeroe",
        "https://intranet.example.com/users/jroe",
        "https://shop.example.com/account?email=jane%40example.com",
        "https://example.edu/~jroe/",
        "https://roberthoffmann.dev",
        "https://www.jane-roe.me/about",
        "https://benjaminpant.dev",
    ],
)
def test_personal_urls_are_kept(url: str) -> None:
    assert _kept(f"see {url} for more", url, "URL")


@pytest.mark.parametrize(
    "text",
    [
        "The portfolio is at https://jr-works.net.",
        '"linkedin": "https://jr-works.net"',
        "GitHub https://jr-works.net",
    ],
)
def test_urls_introduced_as_a_persons_page_are_kept(text: str) -> None:
    assert _kept(text, "https://jr-works.net", "URL")


def test_personal_urls_keep_their_quotes_out() -> None:
    url = "https://github.com/janeroe"
    text = f'profile: "{url}",'
    start = text.index('"')
    finding = Finding("URL", start, text.index(","), 0.9)
    kept = DEFAULT.apply(text, [finding])
    assert [(f.start, f.end) for f in kept] == [(start + 1, start + 1 + len(url))]


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.python.org/3/library/re.html",
        "https://github.com/psf/requests",
        "https://pypi.org/project/grpcio/",
        "https://example.com/api/v2/orders?page=2",
        "https://marketing.example.com/spring",
        "https://semver.org/spec/v2.0.0.html",
    ],
)
def test_public_urls_are_dropped(url: str) -> None:
    assert not _kept(f"see {url} for more", url, "URL")
    everything = PrecisionRules(Detection(entities=("URL",), urls=UrlRules(mode="all")))
    assert _kept(f"see {url} for more", url, "URL", everything)


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        ("upgraded grpcio to 1.62.1 yesterday", "1.62.1", "DATE_TIME"),
        ("Windows 10.0.19045.3570 build", "10.0.19045", "IP_ADDRESS"),
        ("request 3f2b6c1e-9a0d-4c4e-8f7a-1b2c3d4e5f60 failed", "9a0d-4c4e", "PHONE_NUMBER"),
        ("commit 4111111111111111ab9f merged", "4111111111111111", "CREDIT_CARD"),
        ("Order #4111111111111111 shipped", "4111111111111111", "CREDIT_CARD"),
        ("tracking number: 5551234567", "5551234567", "PHONE_NUMBER"),
        ("invoice no. 078051120 is due", "078051120", "US_SSN"),
        ("see ORD-2024-118822 for details", "2024-118822", "PHONE_NUMBER"),
        ("part A1234567 in stock", "1234567", "US_BANK_NUMBER"),
        ("build-20240105 green", "20240105", "DATE_TIME"),
        # A number cut out of a dotted run, or one holding a date or a bracket.
        ("## [10.0.17146.9055] - 2024-11-11", "9055] - 2024-11-11", "PHONE_NUMBER"),
        ("## [0.24.2] - 2025-11-03", "[0.24.2] - 2025-11-03", "PHONE_NUMBER"),
        # Fewer than seven digits: an amount or a timeout, not a phone.
        ("one bill per workspace: EUR 3642.11 a month", "3642.11", "PHONE_NUMBER"),
        ("read_timeout_ms: 1698", "1698", "PHONE_NUMBER"),
        (
            "UPDATE orders SET status = 'shipped' WHERE id = 3500491955;",
            "3500491955",
            "PHONE_NUMBER",
        ),
        ("fix in the cache layer (build 71062, commit 0194404)", "0194404", "PHONE_NUMBER"),
    ],
)
def test_lookalikes_are_dropped(text: str, value: str, entity: str) -> None:
    assert not _kept(text, value, entity)


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        ("call me on 555-123-4567 tonight", "555-123-4567", "PHONE_NUMBER"),
        ("card 4111 1111 1111 1111 was declined", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("my SSN is 078-05-1120.", "078-05-1120", "US_SSN"),
        ("login from 203.0.113.7 at night", "203.0.113.7", "IP_ADDRESS"),
        # "ordered" is not the cue "order".
        ("I ordered 4111111111111111 by mistake", "4111111111111111", "CREDIT_CARD"),
        # Names and e-mails are never lookalikes.
        ("Order #55 for Jane Roe", "Jane Roe", "PERSON"),
    ],
)
def test_personal_values_survive_the_lookalike_rules(text: str, value: str, entity: str) -> None:
    assert _kept(text, value, entity)


def test_lookalike_rules_can_be_switched_off() -> None:
    off = PrecisionRules(
        Detection(
            entities=("PHONE_NUMBER",),
            lookalikes=LookalikeRules(
                versions=False, uuids=False, hashes=False, order_numbers=False
            ),
        )
    )
    assert _kept("tracking number: 5551234567", "5551234567", "PHONE_NUMBER", off)
    assert _kept("see ORD-2024-118822", "2024-118822", "PHONE_NUMBER", off)


@given(st.text(max_size=80), st.integers(0, 80), st.integers(0, 80))
def test_rules_never_fail_and_only_drop(text: str, a: int, b: int) -> None:
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    findings = [Finding(e, start, end, 0.5) for e in ("DATE_TIME", "URL", "PHONE_NUMBER")]
    kept = DEFAULT.apply(text, findings)
    assert set(kept) <= set(findings)


def _plausible(text: str, value: str, entity: str) -> str | None:
    start = text.index(value)
    cut = plausible_ner(text, Finding(entity, start, start + len(value), 0.85))
    return None if cut is None else text[cut.start : cut.end]


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Name: Natasza Zębik\nNotes", "Natasza Zębik\nNotes", "Natasza Zębik"),
        ('profile.update user_id=688 name="Noémi Clément"', 'name="Noémi Clément', "Noémi Clément"),
        ("  (186, 'Mohini Bhavsar'),", "Mohini Bhavsar'", "Mohini Bhavsar"),
        ("hey, my name is james cunningham", "james cunningham", "james cunningham"),
        (
            "Account manager: Maksymilian Müller-Lüdenscheidt",
            "Maksymilian Müller-Lüdenscheidt",
            "Maksymilian Müller-Lüdenscheidt",
        ),
    ],
)
def test_ner_person_spans_are_cut_to_the_name(text: str, value: str, expected: str) -> None:
    assert _plausible(text, value, "PERSON") == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Caused by: java.lang.IllegalStateException", "java.lang"),
        ("Shipment 1ZRTJWWM5150384491 left", "Shipment 1ZRTJWWM5150384491"),
        ("Thank you for choosing Pixel Forge.", "Pixel Forge"),
        ("Globex Studio adds offline mode", "Globex Studio"),
        ("(Background on this error at: x)", "Background"),
        ("Mark it as received in the app.", "Mark"),
        ("Warning: Jasmine spec 'cart totals' is slow", "Jasmine"),
        ("primary colour is now #b469b2", "b469b2"),
        (
            "see https://docs.python.org/3/library/re.html",
            "https://docs.python.org/3/library/re.html",
        ),
    ],
)
def test_ner_person_labels_on_words_and_code_are_dropped(text: str, value: str) -> None:
    assert _plausible(text, value, "PERSON") is None


@pytest.mark.parametrize(
    ("text", "value", "keep"),
    [
        ("I now live at Plaza Charo Garriga 20", "Plaza Charo Garriga 20", True),
        ("the parcel was left at Junitzplatz 4/9", "Junitzplatz 4/9", True),
        ("5 Russell Groves, New Harry, W9 3FS", "W9 3FS", True),
        ("it will be removed in 0.12.32b2", "0.12.32b2", False),
        ("invoice INV-2023-99625 not loaded", "INV-2023", False),
        ("due in 30 days; PO V2814881", "PO", False),
        ("-- checksum 049351ec4e6b", "checksum", False),
        ("build 48912, commit ea1b92a", "ea1b92a", False),
    ],
)
def test_ner_location_labels(text: str, value: str, keep: bool) -> None:
    assert (_plausible(text, value, "LOCATION") is not None) is keep


# The linking rules alone: under the default (`personal_texts`) a named person in the
# text already makes every date in it personal.
LINKED = PrecisionRules(Detection(entities=("PERSON",), dates=DateRules(mode="person_linked")))


def _dates_kept(
    text: str, date: str, *, person: str | None, rules: PrecisionRules = LINKED
) -> bool:
    start = text.index(date)
    findings = [Finding("DATE_TIME", start, start + len(date), 0.85)]
    if person is not None:
        at = text.index(person)
        findings.append(Finding("PERSON", at, at + len(person), 0.85))
    return any(f.entity == "DATE_TIME" for f in rules.apply(text, findings))


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Jane Roe\nIt's 1971-03-28, I think.", "1971-03-28"),
        ("Jane Roe\n\nOn file: 4 November 1962, has an account.", "4 November 1962"),
        ("Jane Roe\nx 02/02/1978 x", "02/02/1978"),
    ],
)
def test_old_full_dates_beside_a_person_read_as_birth_dates(text: str, date: str) -> None:
    assert _dates_kept(text, date, person="Jane Roe")
    # Without a person in the text, or with the rule off, no cue means no link.
    assert not _dates_kept(text, date, person=None)
    off = PrecisionRules(
        Detection(
            entities=("DATE_TIME",),
            dates=DateRules(mode="person_linked", birth_date_min_age=0),
        )
    )
    start = text.index(date)
    at = text.index("Jane Roe")
    findings = [
        Finding("DATE_TIME", start, start + len(date), 0.85),
        Finding("PERSON", at, at + 8, 0.85),
    ]
    assert [f.entity for f in off.apply(text, findings)] == ["PERSON"]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Jane Roe\n\nThe team grew in 2024-01-05.", "2024-01-05"),  # recent: not a birth date
        ("Jane Roe\n\nThe office was there in 1984.", "1984"),  # a year alone
        ("Jane Roe\n\nThe office moved in March 1990.", "March 1990"),  # no day
    ],
)
def test_recent_or_partial_dates_are_not_birth_dates(text: str, date: str) -> None:
    assert not _dates_kept(text, date, person="Jane Roe")


@pytest.mark.parametrize(
    "table",
    [
        "| name | dob | plan |\n| --- | --- | --- |\n| x | 2019-03-01 | gold |",
        "id,birth_date,plan\n7,2019-03-01,gold",
        "id\tDate of birth\tplan\n7\t2019-03-01\tgold",
    ],
)
def test_dates_under_a_cue_header_are_person_linked(table: str) -> None:
    assert _dates_kept(table, "2019-03-01", person=None)
    assert not _dates_kept(
        table.replace("dob", "created")
        .replace("birth_date", "created")
        .replace("Date of birth", "created"),
        "2019-03-01",
        person=None,
    )


@pytest.mark.parametrize(
    ("text", "date", "kept"),
    [
        ("payroll for Jane Roe (SIN 046 454 286), starting 2023-11-20.", "2023-11-20", True),
        ("Effective 2023-11-20, Jane Roe moves to the Leeds team.", "2023-11-20", True),
        # A log line's own timestamp, an event time, another clause, another line.
        ("2024-01-05 INFO login ok for Jane Roe", "2024-01-05", False),
        ("login at 2024-01-05T10:22:01 for Jane Roe", "2024-01-05T10:22:01", False),
        ("Ask Jane Roe. The release shipped on 2024-01-05.", "2024-01-05", False),
        ("Jane Roe\nrelease 2024-01-05", "2024-01-05", False),
    ],
)
def test_dates_in_a_named_persons_clause(text: str, date: str, kept: bool) -> None:
    assert _dates_kept(text, date, person="Jane Roe") is kept


def test_a_site_named_after_a_person_in_the_text_is_personal() -> None:
    text = "Advik · abadami@hotmail.co.uk\nhttps://advikabadami.dev\nhttps://svelte.dev"
    email = text.index("abadami")
    findings = [Finding("EMAIL_ADDRESS", email, email + len("abadami@hotmail.co.uk"), 1.0)]
    for url in ("https://advikabadami.dev", "https://svelte.dev"):
        at = text.index(url)
        findings.append(Finding("URL", at, at + len(url), 0.6))
    kept = [text[f.start : f.end] for f in DEFAULT.apply(text, findings) if f.entity == "URL"]
    assert kept == ["https://advikabadami.dev"]


@pytest.mark.parametrize(
    ("text", "date", "kept"),
    [
        ("Employee: Jane Roe\nSIN: 046 454 286\nEffective: 2023-11-20\n", "2023-11-20", True),
        ('{"name": "Jane Roe",\n "enrolment": "2023-11-20"}', "2023-11-20", True),
        # Event labels, another record, an unlabelled line.
        ("Employee: Jane Roe\nCreated: 2023-11-20\n", "2023-11-20", False),
        ("Employee: Jane Roe\nInvoice date: 2023-11-20\n", "2023-11-20", False),
        ("Employee: Jane Roe\n\nRelease train\nEffective: 2023-11-20", "2023-11-20", False),
        ("Employee: Jane Roe\nthe office moved on 2023-11-20", "2023-11-20", False),
    ],
)
def test_dates_on_labelled_lines_of_a_persons_record(text: str, date: str, kept: bool) -> None:
    assert _dates_kept(text, date, person="Jane Roe") is kept


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2024-01-05 INFO login ok for Jane Roe", "2024-01-05"),
        ("Ask Jane Roe. The release shipped on 2024-01-05.", "2024-01-05"),
        ("Employee: Jane Roe\nCreated: 2023-11-20\n", "2023-11-20"),
        ("Jane Roe\n\nThe office moved in March 1990.", "March 1990"),
    ],
)
def test_personal_texts_keep_every_date_of_a_text_about_a_person(text: str, date: str) -> None:
    # Not linked by a cue or a clause, yet in a text that names a person: the default
    # mode keeps it, person_linked does not.
    assert _dates_kept(text, date, person="Jane Roe", rules=DEFAULT)
    assert not _dates_kept(text, date, person="Jane Roe")


@pytest.mark.parametrize(
    ("entity", "value"),
    [
        ("EMAIL_ADDRESS", "jane.roe@example.org"),
        ("PHONE_NUMBER", "+44 20 7946 0958"),
        ("LOCATION", "221B Baker Street"),
    ],
)
def test_any_personal_value_makes_a_text_personal(entity: str, value: str) -> None:
    text = f"Ticket from {value}: the export failed on 2024-01-05."
    at = text.index(value)
    date = text.index("2024-01-05")
    findings = [
        Finding(entity, at, at + len(value), 0.9),
        Finding("DATE_TIME", date, date + 10, 0.85),
    ]
    assert {f.entity for f in DEFAULT.apply(text, findings)} == {entity, "DATE_TIME"}
    # Without the personal value the date is not linked to anyone.
    assert DEFAULT.apply(text, findings[1:]) == []


def test_dropped_findings_do_not_make_a_text_personal() -> None:
    # A version string the phone pattern took, a public URL and an allow-listed address
    # are not personal data: the text is not personal, so its date is dropped too.
    text = "Release 10.0.19045.3570 (see https://docs.acme.com), support@acme.com, 2024-01-05"
    rules = PrecisionRules(Detection(entities=("PERSON",), allow_list=("support@acme.com",)))
    findings = []
    for entity, value in (
        ("PHONE_NUMBER", "10.0.19045.3570"),
        ("URL", "https://docs.acme.com"),
        ("EMAIL_ADDRESS", "support@acme.com"),
        ("DATE_TIME", "2024-01-05"),
    ):
        at = text.index(value)
        findings.append(Finding(entity, at, at + len(value), 0.9))
    assert rules.apply(text, findings) == []


def test_lookalike_dates_stay_dropped_in_personal_texts() -> None:
    text = "Jane Roe ran build-20240105 today"
    value = "20240105"
    assert not _dates_kept(text, value, person="Jane Roe", rules=DEFAULT)
