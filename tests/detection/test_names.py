"""NameRecognizer: cue, list, title and any-case rules; hard negatives; span properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar import gazetteers
from sidecar.finding import Finding
from sidecar.names import NameOptions, NameRecognizer


@pytest.fixture(scope="module")
def recognizer() -> NameRecognizer:
    return NameRecognizer(NameOptions())


def _values(recognizer: NameRecognizer, text: str) -> list[str]:
    return [text[f.start : f.end] for f in recognizer.find(text)]


POSITIVES = [
    # greetings / sign-offs
    ("Hi Anna, can you check this?", ["Anna"]),
    ("Hello Anna Smith, welcome back", ["Anna Smith"]),
    ("Dear Mr. Smith,", ["Smith"]),
    ("Dear Siobhán,", ["Siobhán"]),
    ("Kind regards,\nJean-Luc O'Connor", ["Jean-Luc O'Connor"]),
    ("Thanks,\nBob", ["Bob"]),
    ("Best,\nSarah", ["Sarah"]),
    ("Thanks Anna!", ["Anna"]),
    # introductions and field labels
    ("my name is maria lopez", ["maria lopez"]),
    ("Patient: Xochitl Nakamura, DOB 1990-01-01", ["Xochitl Nakamura"]),
    ("Contact: Emma Watson", ["Emma Watson"]),
    ("Last name: Smith", ["Smith"]),
    # transcripts
    ("MARIA LOPEZ: hello there", ["MARIA LOPEZ"]),
    ("Anna: are you there?", ["Anna"]),
    # e-mail display names
    ('From: "Smith, John" <john.smith@example.com>', ["Smith, John"]),
    ("John Smith <jsmith@example.com> wrote:", ["John Smith"]),
    # action phrases
    ("Spoke with Dr. Jane Doe today; call Ahmed back.", ["Jane Doe", "Ahmed"]),
    ("Reported by Priya Natarajan; assigned to Wei Zhang.", ["Priya Natarajan", "Wei Zhang"]),
    # lists: international names, particles, hyphens, apostrophes
    ("Siobhán Byrne called about Pádraig van der Berg.", ["Siobhán Byrne", "Pádraig van der Berg"]),
    ("Mary-Jane McDonald and Seán Ó Briain", ["Mary-Jane McDonald", "Seán Ó Briain"]),
    ("John F. Kennedy was here.", ["John F. Kennedy"]),
    ("Angela Merkel spoke.", ["Angela Merkel"]),
    ("Nguyễn Thị Lan arrived", ["Nguyễn Thị Lan"]),
    ("Paris Hilton and Victoria Beckham attended.", ["Paris Hilton", "Victoria Beckham"]),
    # titles
    ("Herr Müller und Frau Schmidt", ["Müller", "Schmidt"]),
    ("M. Dupont et Mme Lefèvre", ["Dupont", "Lefèvre"]),
    # any case
    ("ask john smith about it", ["john smith"]),
    ("ANNA GREEN and anna lopez", ["ANNA GREEN", "anna lopez"]),
    ("i'm anna and this is fine", ["anna"]),
    ("Hi Madison,", ["Madison"]),
    # greeting or sign-off that the name ends: unknown or word-like given names
    ("Hello Nout,\n\nLovely to meet you", ["Nout"]),
    ("Hi Grace, your appointment is confirmed", ["Grace"]),
    ("Best, Destiny Hardy\n", ["Destiny Hardy"]),
    ("Signed, Viraj Puri. National Insurance: x", ["Viraj Puri"]),
    ("Thanks, Leanne.\n", ["Leanne"]),
    ("Dear Raf Janssens,", ["Raf Janssens"]),
    # field values, JSON / key=value, lists of attendees, CV headings, statements
    ("Agent: Varenya Sampath.", ["Varenya Sampath"]),
    ("Reporter: Triveni Okonkwo-Adeyemi (t@example.com)", ["Triveni Okonkwo-Adeyemi"]),
    ("Account manager: Chandani Golla\nNotes: x", ["Chandani Golla"]),
    ('{"customer": "Ekalinga Shroff", "street": "Main St 1"}', ["Ekalinga Shroff"]),
    ('profile.update name="Devansh Ganesh-Dutt" phone="1"', ["Devansh Ganesh-Dutt"]),
    (
        "Attendees: Alison Jones, Edhitha Jhaveri and Tadeusz Nowak",
        ["Alison Jones", "Edhitha Jhaveri", "Tadeusz Nowak"],
    ),
    ("CURRICULUM VITAE\n\nKALPIT SHERE\nBorn 1990", ["KALPIT SHERE"]),
    ("2024-12-03  SEPA TRANSFER FROM OMKAAR RAMASWAMY     +EUR 3.00", ["OMKAAR RAMASWAMY"]),
    ("Name: da Silva, Patrizia\nE-mail: x", ["da Silva, Patrizia"]),
    ("Name: Köhler, Liesa\n", ["Köhler, Liesa"]),
    ("Account manager: Mitesh N'Diaye\n", ["Mitesh N'Diaye"]),
    # parenthesised speakers, verb cues
    ("[00:06:36] Agent (Callum): Thank you for calling", ["Callum"]),
    ("you're speaking with Callum.", ["Callum"]),
    ("you can reach René at rene@example.com", ["René"]),
    # alternating case hides a name
    ("This is aDèLe rObErT writing.", ["aDèLe rObErT"]),
    # other mentions of a name found elsewhere in the text
    (
        "Attendees: Edhitha Jhaveri\nAlison owns the notes, Edhitha the call.",
        ["Edhitha Jhaveri", "Edhitha"],
    ),
    ("Hi Iris,\nyes. Iris: ok", ["Iris", "Iris"]),
    # table columns under a person header (Markdown, CSV, TSV, SQL), two-cell label rows
    (
        "| Name | Email | Owner |\n|---|---|---|\n| Amber Cammel | a@x.com | Mamen Pla |\n",
        ["Amber Cammel", "Mamen Pla"],
    ),
    (
        "id,customer_name,plan\n1,Krzysztof Wojcik,pro\n2,Lata Pillai,free\n",
        ["Krzysztof Wojcik", "Lata Pillai"],
    ),
    ("Assignee\tStatus\nGunar Walter\topen\n", ["Gunar Walter"]),
    (
        "INSERT INTO users (id, full_name, email) VALUES\n  (16, 'Rebeca Cases', 'r@x.com'),"
        "\n  (95, 'Marcel Bigot', 'm@x.de');",
        ["Rebeca Cases", "Marcel Bigot"],
    ),
    ("| Contact | Naksh Chana |\n", ["Naksh Chana"]),
    # keyed values, XML, labels, URL query strings
    ('{"assigned_to": "Lata Pillai", "status": "open"}', ["Lata Pillai"]),
    ("<customerName>Lata Pillai</customerName>", ["Lata Pillai"]),
    ("Verified by: Raf Michiels on 21/07/2023\n", ["Raf Michiels"]),
    ("redirect_uri=/welcome?user=Sebastian+Rosemann&x=1", ["Sebastian+Rosemann"]),
    # e-mail evidence: the name's words in a nearby address
    ("Escalation: Yatin Vyas (yatin_vyas70@web.de) says hi", ["Yatin Vyas"]),
    ("you can reach Damini at damini_lad36@ziggo.nl", ["Damini"]),
    ("Context: Adelasia Tasso (atasso@gmail.com) wants a refund", ["Adelasia Tasso"]),
    # verbs of people, prepositions with two name words, contact details
    ("Dan from the front desk said this is fine", ["Dan"]),
    ("Polina wrote back yesterday", ["Polina"]),
    ("a polite reminder to Isabelly Guerra? The invoice", ["Isabelly Guerra"]),
    ("Statement excerpt for Gaja Mikosz, IBAN ES81", ["Gaja Mikosz"]),
    ("Statement excerpt for Sheila Jones, IBAN IT77 U020", ["Sheila Jones"]),
    ("Their account lead is Gaja Hajder, +4915200487193.", ["Gaja Hajder"]),
    ("or call the recipient Aishani Bhat on +91 94508 77420.", ["Aishani Bhat"]),
    ("I'm copying Gunar Walter here", ["Gunar Walter"]),
    # names listed with a name already found; signature blocks; two foreign words
    (
        "Attendees: Alison Jones, Edhitha Jhaveri and Gaja Hajder",
        ["Alison Jones", "Edhitha Jhaveri", "Gaja Hajder"],
    ),
    ("Gaja Hajder\nHead of Data\n+48 22 123 45 67\n", ["Gaja Hajder"]),
    ("The ticket went to Wojtek Szczepaniak yesterday.", ["Wojtek Szczepaniak"]),
    # ALL CAPS name after a strong cue
    ("Name: APRIL BERGER\nDate of birth: x", ["APRIL BERGER"]),
    ("Hi, I'm John Smith, mail john.smith@example.com now", ["John Smith"]),
    # short and inverted forms, whatever the context
    ("Please forward to Wade, Margaret in accounting.", ["Wade, Margaret"]),
    ("Report prepared for Heintze, Esther.", ["Heintze, Esther"]),
    ("[10:02] E. Wilson: can you resend the file?", ["E. Wilson"]),
    ("Next of kin: T. Alexander (brother)", ["T. Alexander"]),
    ("cc: Hannah K.; ops-team", ["Hannah K."]),
    # chat mentions
    ("@Megan Wilson can you review?", ["Megan Wilson"]),
    # lower case: a known given name and a word that is no word
    ("Please forward to anna kallert in accounting.", ["anna kallert"]),
    ("Report prepared for esther heintze.", ["esther heintze"]),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_positive(recognizer: NameRecognizer, text: str, expected: list[str]) -> None:
    assert _values(recognizer, text) == expected


NEGATIVES = [
    "Will you mark the June release?",
    "Grant access to the Bill Payments team",
    "Dear customer, your order shipped.",
    "Dear Valued Customer",
    "Dear Hiring Manager",
    "Mark as read",
    "June 5 deadline",
    "The Support Team",
    "Hello World",
    "Hi team, Hi all, Hey there",
    "Regards,\nThe Billing Team",
    "Ruby Gems update",
    "Grace Period applies",
    "Max Size exceeded",
    "Summer Sale ends",
    "Rose Garden tour",
    "Amber Alert issued for Crystal Reports and Ivy League",
    "Release notes for Jenkins Pipeline 2.3",
    "We use Django and Flask with Celery.",
    "user_name = 'anna.smith'",
    "email anna@example.com",
    "Contact: sales@example.com",
    "owner: root",
    "assigned to QA team",
    "to: Support Team",
    "this is Paris calling",
    "2024-01-01 12:00:00 ERROR [main] UserService: failed for id 12345",
    'Traceback (most recent call last):\n  File "/app/main.py", line 10, in <module>',
    "SELECT name, email FROM users WHERE id = 42;",
    "## 2.4.1 - 2024-03-02\n- Fixed: Will no longer crash on June dates\n- Added: Grant API",
    "Run `anna_smith.configure()` then call GitHub and JavaScript helpers",
    "v1.2.3 Julia Set renderer",
    "Bill Gates",  # ambiguous first name: left to the NER
    "Hope this helps. Sunny days, Joy Division, Faith No More, Summer of Code",
    "DL number D1234567 and order 12345",
    "config.user.name = value; obj.Anna.Smith",
    "    meta: dict[str, Any] = field(default_factory=dict)",
    "for name in names:\n    elif style == 1: pass",
    "city: str, name: str",
    "(UK NINO, Spanish NIF)",
    "gar gay",
    "Hello World, hi",
    "Thanks, Will do.",
    "Note (Important): read this",
    "Bank account (IBAN): GB00",
    "Dear Customer Service,",
    "Best, Support Team\n",
    "Agent: Mozilla/5.0 (X11)",
    "Reporter: build bot",
    "contact=anna.smith(at)example(dot)org",
    "TRANSFER FROM SAVINGS ACCOUNT     +EUR 10.00",
    "Attendees: everyone in sales",
    "Run it on GitHub, LinkedIn and YouTube",
    "Name: Billing, Support\n",
    "Customer: Acme, Inc\n",
    # structure rules: non-person columns, company cells, place names, acronyms
    "| Company | Plan |\n|---|---|\n| Hooli Industries | Pro |\n",
    "Customer\tPlan\nGlobex Corporation\tPro\n",
    "file_name,size,owner\nreport.pdf,12,root\n",
    '{"city": "Montelupo Fiorentino", "user": "admin"}',
    "Via Roma 12, 50056 Montelupo Fiorentino",
    "We use Django, Flask and Celery.",
    "Call Support, +44 20 7946 0000",
    "Release Notes\nVersion 2\nsupport@example.com\n",
    # short forms: places, lists of words, abbreviations, code annotations
    "Paris, Charlotte and Austin are on the tour.",
    "Apples, Pears, Plums",
    "Troops of the U.S. Army arrived.",
    "Plan B. However, the rollout continues.",
    "@Override\npublic String toString()",
    "Thanks, Will do.",
    "anna und ben",
    "Contact sales@acme.com for Acme Cloud pricing",
    "the parcel went to Lake Megan, NY",
    "Python said nothing; Legal confirmed the terms.",
    "?page=Home+Settings&tab=2",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(recognizer: NameRecognizer, text: str) -> None:
    assert _values(recognizer, text) == []


def test_exact_spans(recognizer: NameRecognizer) -> None:
    text = "Dear Dr. Jane Doe,\nthanks. Regards,\nPádraig van der Berg"
    found = recognizer.find(text)
    assert found == [
        Finding("PERSON", 9, 17, 0.85),
        Finding("PERSON", 36, 56, 0.85),
    ]
    assert text[9:17] == "Jane Doe"
    assert text[36:56] == "Pádraig van der Berg"


def test_repeats_skip_places_and_dates(recognizer: NameRecognizer) -> None:
    text = "Hi Megan,\nthe parcel went to Lake Megan, NY on 26 Jan 2024."
    assert _values(recognizer, text) == ["Megan"]
    text = "Attendees: Jan Kowalski\nDue 26 Jan 2024."
    assert _values(recognizer, text) == ["Jan Kowalski"]


def test_repeats_skip_word_names_at_sentence_start(recognizer: NameRecognizer) -> None:
    text = "Hi Grace,\nthanks. Grace periods apply. Ask Grace later."
    assert _values(recognizer, text) == ["Grace", "Grace"]


def test_possessive_not_in_span(recognizer: NameRecognizer) -> None:
    text = "Siobhán Byrne's laptop"
    assert _values(recognizer, text) == ["Siobhán Byrne"]


def test_no_cross_line(recognizer: NameRecognizer) -> None:
    assert _values(recognizer, "Anna\nSmith went home") == []


def test_options_switch_rules_off() -> None:
    off = NameRecognizer(NameOptions(context=False, lists=False, titles=False))
    assert off.find("Hi Anna, Dr. Smith and John Smith") == []
    lists_only = NameRecognizer(NameOptions(context=False, titles=False, any_case=False))
    text = "Hi Anna, john smith and John Smith"
    assert [text[f.start : f.end] for f in lists_only.find(text)] == ["John Smith"]


def test_score_option() -> None:
    assert NameRecognizer(NameOptions(score=0.5)).find("Hi Anna")[0].score == 0.5


def test_common_words_not_given_names() -> None:
    names = gazetteers.given_names()
    for word in ("will", "mark", "june", "grant", "bill", "rose", "the", "an", "in", "so"):
        assert word not in names
    for word in ("anna", "siobhan", "jean-luc", "pádraig"):
        assert word in names


# -- properties ----------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;'-_@\n\t0123456789éñ")
)
_WORDS = st.sampled_from(
    [
        "Anna",
        "anna",
        "Smith",
        "smith",
        "Dear",
        "Hi",
        "Mr.",
        "Dr",
        "van der",
        "O'Connor",
        "Jean-Luc",
        "Will",
        "Regards,\n",
        "Name:",
        "<a@b.c>",
        "the",
        "team",
        "Street",
        "12",
        "`x`",
        "JOHN",
        "SMITH",
    ]
)


def _assert_spans_well_formed(text: str, found: list[Finding]) -> None:
    previous_end = -1
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
        assert f.start >= previous_end  # sorted, non-overlapping
        previous_end = f.end
        assert f.entity == "PERSON"
        if f.start > 0:
            assert not text[f.start - 1].isalnum()
        if f.end < len(text):
            assert not text[f.end].isalnum()
        assert "\n" not in text[f.start : f.end]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_WORDS, st.text(_ALPHABET, max_size=8)), max_size=25))
def test_spans_well_formed(recognizer: NameRecognizer, parts: list[str]) -> None:
    text = " ".join(parts)
    _assert_spans_well_formed(text, recognizer.find(text))


_LOWER_WORDS = st.sampled_from(
    [
        "the",
        "release",
        "will",
        "mark",
        "june",
        "grant",
        "bill",
        "access",
        "team",
        "error",
        "log",
        "build",
        "version",
        "deploy",
        "server",
        "anna",
        "smith",
        "rose",
        "art",
        "may",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_LOWER_WORDS, max_size=20))
def test_lowercase_without_cue_needs_pair(recognizer: NameRecognizer, words: list[str]) -> None:
    text = " ".join(words)
    found = recognizer.find(text)
    given_names = gazetteers.given_names()
    surnames = gazetteers.surnames()
    has_pair = any(a in given_names and b in surnames for a, b in itertools.pairwise(words))
    if not has_pair:
        assert found == []
    _assert_spans_well_formed(text, found)
