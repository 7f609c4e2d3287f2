"""AddressRecognizer: street lines, postcodes in context, cities; hard negatives; spans."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sidecar import gazetteers
from sidecar.addresses import AddressOptions, AddressRecognizer
from sidecar.finding import Finding


@pytest.fixture(scope="module")
def recognizer() -> AddressRecognizer:
    return AddressRecognizer(AddressOptions())


def _values(recognizer: AddressRecognizer, text: str) -> list[str]:
    return [text[f.start : f.end] for f in recognizer.find(text)]


POSITIVES = [
    ("221B Baker Street, London NW1 6XE", ["221B Baker Street", "London", "NW1 6XE"]),
    (
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        ["1600 Pennsylvania Ave NW", "Washington", "20500"],
    ),
    ("Hauptstraße 5, 10115 Berlin", ["Hauptstraße 5", "10115", "Berlin"]),
    ("Lindenstraße 23a, 80331 München", ["Lindenstraße 23a", "80331", "München"]),
    ("Kurfürstendamm 21", ["Kurfürstendamm 21"]),
    ("12 rue de la Paix, 75002 Paris", ["12 rue de la Paix", "75002", "Paris"]),
    ("5, avenue Foch", ["5, avenue Foch"]),
    ("Calle Mayor 12, 3º B, 28013 Madrid", ["Calle Mayor 12, 3º B", "28013", "Madrid"]),
    ("Keizersgracht 123, 1015 CJ Amsterdam", ["Keizersgracht 123", "1015 CJ", "Amsterdam"]),
    ("Flat 4, 12 High St, Leeds LS1 4AP", ["Flat 4, 12 High St", "Leeds", "LS1 4AP"]),
    ("Via Roma 12, 00184 Roma", ["Via Roma 12", "00184", "Roma"]),
    (
        "123 Smith Ridge Apt. 456\nNorth Jennifer, CA 12345",
        ["123 Smith Ridge Apt. 456", "North Jennifer", "12345"],
    ),
    ("Springfield, IL 62704", ["Springfield", "62704"]),
    ("Ship to: 500 Oak Lane, Austin, TX 78701", ["500 Oak Lane", "Austin", "78701"]),
    ("City: Toronto, ON M5V 3L9", ["Toronto", "M5V 3L9"]),
    ("She lives in Springfield and works in Chicago.", ["Springfield", "Chicago"]),
    ("I'm from Berlin.", ["Berlin"]),
    ("Send it to my home address in Manchester please", ["Manchester"]),
    ("Postcode: SW1A 1AA", ["SW1A 1AA"]),
    ("zip code 90210", ["90210"]),
    ("221b baker street", ["221b baker street"]),
    ("221B BAKER STREET", ["221B BAKER STREET"]),
    ("Ort: Köln", ["Köln"]),
    # USPS suffixes that are ordinary words, confirmed by a following city / a label
    ("8063 Anthony Springs, Port Richardside", ["8063 Anthony Springs", "Port Richardside"]),
    ("Address: 1703 Justin Villages", ["1703 Justin Villages"]),
    ("3190 Joshua Isle Suite 896", ["3190 Joshua Isle Suite 896"]),
    # UK flat / studio lines without a house number
    ("Home: Flat 9 Simon Neck, Jayneton, RG5 7HN", ["Flat 9 Simon Neck", "Jayneton", "RG5 7HN"]),
    ("Studio 83V Hilary Drives, Louismouth", ["Studio 83V Hilary Drives", "Louismouth"]),
    # "Port ..." towns; state + ZIP after a city the rules reject still counts after a street
    ("12 Main Street, Port Pamela, NY 04182", ["12 Main Street", "Port Pamela", "04182"]),
    # JSON / code key-value pairs
    (
        '{"street": "Elizadreef 85", "postcode": "4857 XH", "city": "Fleringen"}',
        ["Elizadreef 85", "4857 XH", "Fleringen"],
    ),
    ('postal_code = "90210"', ["90210"]),
    ('"address": "rue Philippe",', ["rue Philippe"]),
    # French line without a number, before postcode + city
    (
        "at avenue de Blot, 33472 Saint Alain instead",
        ["avenue de Blot", "33472", "Saint Alain"],
    ),
    # postcode right after a street line, no city
    ("nobody was home at Levibaan 366, 2352 ZA.", ["Levibaan 366", "2352 ZA"]),
    ("nobody was home at Wielochgasse 80-76, 76626.", ["Wielochgasse 80-76", "76626"]),
    # Dutch -baan / -boulevard, "'s-" towns, hyphenated German "-Ring"
    (
        "Nickboulevard 25, 4641 BH 's-Heerenberg",
        ["Nickboulevard 25", "4641 BH", "'s-Heerenberg"],
    ),
    ("Alf-Barkholz-Ring 9/7, 80056 Magdeburg", ["Alf-Barkholz-Ring 9/7", "80056", "Magdeburg"]),
    # Italian / Spanish types and unit parts
    (
        "Indirizzo: Canale Gemma, 7 Piano 9, 43011 Roncole Verdi",
        ["Canale Gemma, 7 Piano 9", "43011", "Roncole Verdi"],
    ),
    ("Rotonda Ziani, 3 Appartamento 64", ["Rotonda Ziani, 3 Appartamento 64"]),
    (
        "Dirección: Pasadizo de Yéssica Molina 99 Puerta 3, 43619 Málaga",
        ["Pasadizo de Yéssica Molina 99 Puerta 3", "43619", "Málaga"],
    ),
    # a City column in a table
    (
        "| Name | City | Stage |\n|---|---|---|\n| Ann Lee | Bussi Officine | Won |",
        ["Bussi Officine"],
    ),
    ("name,city,zip\nBob,Leeds,LS1\nAl,N/A,x", ["Leeds"]),
    # "North ..." after a street line is a town, not a unit "No rth"
    (
        "9 Archer Fords, North Janeburgh, FK45 4UE",
        ["9 Archer Fords", "North Janeburgh", "FK45 4UE"],
    ),
    # more city cues
    ("Comment: relocation to East Samuelbury.", ["East Samuelbury"]),
    ("i studied in Verderio Inferiore and", ["Verderio Inferiore"]),
    # Polish, Brazilian and Portuguese shapes
    (
        "Adres: ul. Marszałkowska 12/5, 00-950 Warszawa",
        ["ul. Marszałkowska 12/5", "00-950", "Warszawa"],
    ),
    ("Rua das Flores, 123, 01310-100 São Paulo", ["Rua das Flores, 123", "01310-100", "São Paulo"]),
    (
        "Avenida da Liberdade 110, 1250-146 Lisboa",
        ["Avenida da Liberdade 110", "1250-146", "Lisboa"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_positive(recognizer: AddressRecognizer, text: str, expected: list[str]) -> None:
    assert _values(recognizer, text) == expected


NEGATIVES = [
    "2024-01-01 ERROR request 12345 failed on port 8080",
    "Order #12345 shipped. Build 54321 Release passed.",
    "DL A1234567 issued; ticket 12345 Berlin office",
    "I walked 5 miles down the road",
    "Fixed 3 bugs in the parser; see PR 1234 Main.",
    "The Reading festival and Nice weather; Mobile app",
    "Processed 10000 Records in 12 Seconds",
    "Version 2.3.4 Way forward",
    "Added 2 new Place holders and 3 Park options",
    "## v2.1.0\n- bump regex to 2024.11.6\n- 3 Way merge support",
    "SELECT * FROM orders WHERE zip = ? AND id = 94107",
    '  File "/app/main.py", line 10, in handle\n    raise KeyError(12345)',
    "Product: Acme Street Racer 2000",
    "pid 12345 exited with status 1",
    "Will you mark the June release?",
    "Meet me at 5 Oclock",
    "def _city_span(self, text: str, start: int, city: str) -> Finding:",
    'CITY_CUES = ("lives in X")',
    "Send the address to Maria Garcia and Barack Obama",
    # ordinary-word suffixes without address evidence
    "I have 3 Red Lights and 2 Blue Mountains today",
    "We scored 12 Union Points in the game",
    "The Studio 5 Light Show starts now",
    # labels whose value is not a street line
    "IP address: 10.0.0.1",
    "Email address: john@example.com",
    "address: server 2 primary",
    "Address: TBD",
    # a French type word without postcode + city after it
    "take place Monday, then rue Paris",
    "listening on port 8080, NY 10001",
    # port + number is not a town
    "Port 8080, Port 443 open",
    # a table without a city column; a city column with non-city values
    "| Name | Stage |\n|---|---|\n| Ann Lee | Won |",
    "| Name | City |\n|---|---|\n| Ann Lee | n/a |\n| Bo | 12345 |",
    "the bring 5 option",
    "I studied in Computer Science",
    "Smith et al. Nature 12 (2020)",
    "Ran 12-345 Tests today",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(recognizer: AddressRecognizer, text: str) -> None:
    assert _values(recognizer, text) == []


def test_exact_spans(recognizer: AddressRecognizer) -> None:
    text = "Address: 12 Baker Street, Leeds LS1 4AP"
    assert recognizer.find(text) == [
        Finding("LOCATION", 9, 24, 0.85),
        Finding("LOCATION", 26, 31, 0.85),
        Finding("LOCATION", 32, 39, 0.85),
    ]


def test_options() -> None:
    text = "Hauptstraße 5, 10115 Berlin"
    no_streets = AddressRecognizer(AddressOptions(streets=False))
    assert [text[f.start : f.end] for f in no_streets.find(text)] == ["10115", "Berlin"]
    no_pc = AddressRecognizer(AddressOptions(postcodes=frozenset(), cities=False))
    assert [text[f.start : f.end] for f in no_pc.find(text)] == ["Hauptstraße 5"]
    uk_only = AddressRecognizer(AddressOptions(postcodes=frozenset({"GB"})))
    assert [f.end for f in uk_only.find("Springfield, IL 62704")] == []


def test_gazetteer_filters() -> None:
    cities = gazetteers.cities()
    for word in ("reading", "bath", "nice", "mobile", "split", "orange", "victoria", "of"):
        assert word not in cities
    for city in ("paris", "london", "new york", "münchen", "munich"):
        assert city in cities


# -- properties ----------------------------------------------------------------------------

_PARTS = st.sampled_from(
    [
        "12",
        "221B",
        "Baker",
        "Street",
        "street",
        "Hauptstraße",
        "rue",
        "de la",
        "Paix",
        "Calle",
        "Mayor",
        "10115",
        "Berlin",
        "SW1A 1AA",
        "LS1 4AP",
        ",",
        "\n",
        "IL",
        "62704",
        "lives in",
        "from",
        "City:",
        "the",
        "ERROR",
        "1015 CJ",
        "Flat 4,",
    ]
)
_ALPHABET = st.sampled_from(list("abcdefXYZ 0123456789.,:-_#\nß"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_PARTS, st.text(_ALPHABET, max_size=6)), max_size=25))
# A UK postcode's city window once ended 40 characters on, inside a word: "Hauptstra".
@example(parts=["SW1A 1AA", "Baker", "Hauptstraße", "Hauptstraße", "Hauptstraße"])
@example(parts=["Rosenthalerstraßenmeisterei", "Nordwestbahnhofsviertel", "Leeds", "LS1 4AP"])
def test_spans_well_formed(recognizer: AddressRecognizer, parts: list[str]) -> None:
    text = " ".join(parts)
    previous_end = -1
    for f in recognizer.find(text):
        assert 0 <= f.start < f.end <= len(text)
        assert f.start >= previous_end
        previous_end = f.end
        assert f.entity == "LOCATION"
        if f.start > 0:
            assert not text[f.start - 1].isalnum()
        if f.end < len(text):
            assert not text[f.end].isalnum()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [
                "the",
                "error",
                "12345",
                "id",
                "port",
                "log",
                "build",
                "release",
                "v2",
                "ok",
                "42",
                "failed",
            ]
        ),
        max_size=20,
    )
)
def test_lowercase_logs_no_findings(recognizer: AddressRecognizer, words: list[str]) -> None:
    assert recognizer.find(" ".join(words)) == []
