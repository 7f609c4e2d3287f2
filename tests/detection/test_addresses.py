"""AddressRecognizer: street lines, postcodes in context, cities; hard negatives; spans."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
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
