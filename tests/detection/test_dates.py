"""Written dates: the shapes and languages the date pattern finds, and what it leaves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.dates import date_ends_at, find_dates


def _found(text: str) -> list[str]:
    return [text[a:b] for a, b in find_dates(text)]


@pytest.mark.parametrize(
    "date",
    [
        # numeric, day or month first, year first, ISO date-times
        "03/03/1984", "3/3/84", "03-03-1984", "03.03.1984", "3.3.84", "1984-03-03",
        "1984/3/3", "1984.03.03", "2024-01-05T10:22", "2024-01-05T10:22:01Z",
        "2024-01-05T10:22:01.123+02:00",
        # month names and abbreviations, English
        "3 Mar 84", "3 Mar 1984", "3rd March 1984", "the 3rd of March, 1984", "03-Mar-1984",
        "03MAR1984", "03 MAR 1984", "MAR 03 1984", "Mar 3, 1984", "March 3rd", "Jan. 5",
        "5th Jan 2024", "Sat 3 Mar 1984", "Tuesday, 3 March 1984", "3 Mar. 1984",
        "03/Mar/1984", "3 March '84", "March 1984", "March '84", "5 January",
        # other languages
        "3. März 1984", "3 mars 1984", "3 de marzo de 1984", "3 marzo 1984", "3 maart 1984",
        "3 de março de 1984", "Montag, 3. März 1984", "3 ott 1984", "3 set. 1984",
        # CJK
        "1984年3月3日",
    ],
)  # fmt: skip
def test_written_dates_are_found_whole(date: str) -> None:
    for text in (date, f"Born on {date}.", f"| Jane Roe | {date} | active |", f"dob={date}\n"):
        assert date in _found(text), text


@pytest.mark.parametrize(
    "text",
    [
        "may 5 people come?",  # a verb, lower case, no year
        "set 4 retries, 5 out of 10, gen 2 models",  # abbreviations that are words
        "v1.2.24 and 1.2.24.5",  # versions
        "path/3/4/2020/x and 3-3-1984-7",  # parts of paths and longer numbers
        "ratio 3/4, page 12 of 40, 2024 Q1",  # fractions, years alone
        "build-20240105 and 20240105",  # compact dates need a birth word (elsewhere)
        "order 12.10.20231",  # a longer number
    ],
)
def test_non_dates_are_left(text: str) -> None:
    assert _found(text) == []


def test_a_date_at_a_sentence_end_keeps_its_full_stop_out() -> None:
    assert _found("He was born on 3 Mar.") == ["3 Mar"]
    assert _found("Seen 03.03.1984.") == ["03.03.1984"]


def test_date_ends_at() -> None:
    text = "Jane Roe;12/03/1981\n4929 1111 1111 1111"
    assert date_ends_at(text, text.index("\n"))
    assert not date_ends_at(text, text.index("1981"))  # inside the date
    assert not date_ends_at("order 123456\n789", len("order 123456"))


@given(st.text(alphabet="0123456789 -/.:,'MarchJnuyDecTh年月日\n", max_size=60))
def test_spans_are_ordered_and_inside_the_text(text: str) -> None:
    spans = find_dates(text)
    previous = 0
    for start, end in spans:
        assert previous <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous = end


def test_a_date_cut_by_the_search_window_is_decided_on_its_line() -> None:
    # The pattern runs in windows around digits; a window that ends inside "Marching"
    # must not make "3 ... Mar" a date, and one that ends inside a date must not cut it.
    spaces = " " * 37
    assert _found(f"3{spaces}Marching on") == []
    assert _found(f"3{spaces}March 1984") == [f"3{spaces}March 1984"]
