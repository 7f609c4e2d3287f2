"""Calendar dates in the shapes people and systems write them, in several languages.

spaCy's small English model misses many written dates ("3 Mar 84", "Sat 3 Mar 1984",
"3. März 1984", "03MAR1984") and Presidio's DateRecognizer covers numeric shapes only.
This recognizer replaces it: numeric dates (d/m/y, m/d/y, y-m-d with `-`, `/` or `.`,
ISO date-times), dates with a month name or abbreviation in English, German, French,
Spanish, Italian, Dutch or Portuguese (weekday, ordinal, "of"/"de" allowed), month and
year, and CJK dates (`recognizers.WrittenDateRecognizer` wraps it for Presidio). Whether a
date is personal data is decided later (`rules.py`).
"""

from __future__ import annotations

import re
from typing import Any

from sidecar.gazetteers import word_set

__all__ = ["date_ends_at", "find_dates"]

# Full month names: accepted without a year ("on 5 January", "March 3rd").
_MONTHS = word_set(
    """
    january february march april may june july august september october november december
    januar jänner februar märz mai juni juli oktober dezember
    janvier février fevrier mars avril juin juillet août aout septembre octobre novembre
    décembre decembre
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre
    noviembre diciembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
    januari februari maart mei augustus
    janeiro fevereiro março marco maio junho julho setembro outubro dezembro
    """
)
# English abbreviations: accepted without a year when capitalised ("Jan 5", "5 Mar").
_EN_ABBREVIATIONS = word_set("jan feb mar apr jun jul aug sep sept oct nov dec")
# Other languages' abbreviations are ordinary words too ("set", "out", "gen", "ago"):
# only with a year.
_OTHER_ABBREVIATIONS = word_set(
    """
    jän mär okt dez janv févr fevr avr juil déc ene abr ago dic gen mag giu lug set ott
    mrt fev out
    """
)
_ALL_MONTHS = sorted(_MONTHS | _EN_ABBREVIATIONS | _OTHER_ABBREVIATIONS, key=len, reverse=True)
_WITHOUT_YEAR = _MONTHS | _EN_ABBREVIATIONS
# An apostrophe (straight or typographic) for a century: '84.
_APOSTROPHE = "['\u2019]"


def _longest_first(words: list[str]) -> str:
    """An alternation of `words` that tries, at any position, the words matching there
    longest first (as "|".join of them sorted longest first does), factored by common
    prefixes: the engine tests each letter once instead of once a word. Words that
    match at the same position are prefixes of one another, and each optional
    continuation is tried before the word ending there, so the longer match comes
    first; two words never both match one letter (no two differ only in case)."""
    trie: dict[str, dict[str, Any]] = {}
    for word in words:
        node = trie
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}

    def alternation(node: dict[str, Any]) -> str:
        branches = [
            re.escape(letter) + alternation(rest) for letter, rest in node.items() if letter
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return alternation(trie)


_MONTH = r"(?P<month>" + _longest_first(_ALL_MONTHS) + r")\.?(?![^\W\d_])"
# Weekdays, before a separator: two spellings never both match where a date starts (the
# shorter is followed by a letter, not the separator), so any order of trying them
# finds the same dates; factored by `_longest_first` for speed.
# English: an abbreviation ("tues", "thurs", "satur" too), with "day" or without.
_EN_WEEKDAYS = "mon tue tues wed wednes thu thur thurs fri sat satur sun"
_WEEKDAYS = [short + day for short in _EN_WEEKDAYS.split() for day in ("", "day")] + [
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
]  # fmt: skip
_WEEKDAY = r"(?:" + _longest_first(_WEEKDAYS) + r")\.?,?[ \t\u00a0]+"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_DAY_WRITTEN = _DAY + r"(?:st|nd|rd|th|er|\.)?"
_MONTH_NUMBER = r"(?:0?[1-9]|1[0-2])"
_YEAR4 = r"(?:1[89]|20)\d\d"
_YEAR_AFTER_MONTH = r"(?P<year>" + _YEAR4 + r"|" + _APOSTROPHE + r"\d\d|\d\d)(?!\d)"
_SP = r"[ \t\u00a0]"  # a space within a line
_CLOCK = r"(?:T[0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-][0-2]\d:?[0-5]\d)?)?"

_PATTERN = re.compile(
    r"(?ix)(?<![\w.\-/])(?:"
    # 3 Mar 1984, Sat 3rd March, the 3rd of March, 1984, 03MAR1984, 3. März 1984,
    # 3 de marzo de 1984, 3-Mar-84
    rf"(?:{_WEEKDAY})?(?:the{_SP}+)?{_DAY_WRITTEN}(?:{_SP}+(?:of|de))?"
    rf"[ \t\u00a0\-/.]*{_MONTH}"
    rf"(?:[ \t\u00a0\-/.,]*(?:de{_SP}+)?{_YEAR_AFTER_MONTH})?"
    # Mar 3, 1984; MAR 03 1984; January 5th; Jan. 5
    rf"|(?:{_WEEKDAY})?{_MONTH.replace('month', 'month2')}{_SP}*{_DAY_WRITTEN}(?!\d)"
    rf"(?:,?{_SP}+(?P<year2>{_YEAR4})(?!\d))?"
    # March 1984, March '84, Mar-1984
    rf"|{_MONTH.replace('month', 'month3')}[ \t\u00a0\-,]*"
    rf"(?P<year3>{_YEAR4}|{_APOSTROPHE}\d\d)(?!\d)"
    # 1984-03-03, 1984/3/3, 1984.03.03, 2024-01-05T10:22:01Z
    rf"|{_YEAR4}(?P<s1>[-/.]){_MONTH_NUMBER}(?P=s1){_DAY}(?!\d){_CLOCK}"
    # 03/03/1984, 3.3.84, 03-03-84 (day or month first)
    rf"|(?:{_DAY}(?P<s2>[-/.]){_MONTH_NUMBER}|{_MONTH_NUMBER}(?P<s3>[-/.]){_DAY})"
    rf"(?:(?P=s2)|(?P=s3))(?:{_YEAR4}|\d\d)(?!\d)"
    # 1984年3月3日
    rf"|{_YEAR4}年{_MONTH_NUMBER}月{_DAY}日"
    # Not a version, path or longer number: 1.2.24.5, a/3/4/2020, 3-3-1984-7
    r")(?![\w\-/]|\.\d)"
)


def find_dates(text: str) -> list[tuple[int, int]]:
    """(start, end) of every date in `text`, left to right, not overlapping.

    Every date has a digit and none is longer than a few dozen characters, so the pattern
    only runs in windows around digit runs (on their line): a long text of prose or of
    digit-free lines costs next to nothing."""
    spans: list[tuple[int, int]] = []
    for lo, hi, line_end in _windows(text):
        for found in _PATTERN.finditer(text, lo, hi):
            if found.start() < (spans[-1][1] if spans else 0):
                continue  # the previous window's date
            # Cut by the window: "12 March" may be "12 Marching"; decide on the line.
            match = _PATTERN.match(text, found.start(), line_end) if found.end() == hi else found
            if match is None or not _plausible(match):
                continue
            start, end = match.span()
            if text[end - 1] in ",.":
                end -= 1  # "3 Mar." ends a sentence; "Mar." stays whole only inside
            spans.append((start, end))
    return spans


_REACH = 40  # a date's reach either side of a digit ("Wednesday, the 3rd of September")
# Digit runs whose windows merge: on one line, at most 2 * _REACH characters apart.
_DIGIT_CLUSTER = re.compile(rf"\d+(?:[^\d\n]{{0,{2 * _REACH}}}\d+)*")


def _windows(text: str) -> list[tuple[int, int, int]]:
    """Merged (start, end, end of line) windows of _REACH around digit runs, per line."""
    windows: list[tuple[int, int, int]] = []
    line_start = line_end = -1
    for digits in _DIGIT_CLUSTER.finditer(text):
        start, end = digits.span()
        if start > line_end:  # on a later line than the last cluster
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            line_end = len(text) if line_end < 0 else line_end
        windows.append((max(line_start, start - _REACH), min(line_end, end + _REACH), line_end))
    return windows


def _plausible(match: re.Match[str]) -> bool:
    month_group = next((g for g in ("month", "month2") if match.group(g)), None)
    if month_group is None:
        return True  # numeric, CJK or month + year: the year makes it a date
    month = match.group(month_group)
    year = match.group("year") if month_group == "month" else match.group("year2")
    if year is not None:
        return True
    # Without a year a month word must look like one: "March 3", not "may 5" or "set 4".
    return month.lower() in _WITHOUT_YEAR and month[0].isupper()


def date_ends_at(text: str, end: int) -> bool:
    """Whether a date ends at `end` ("...;12/03/1981" before a line break): its last
    digits are the date's, not the start of a number wrapped onto the next line."""
    segment = text[max(text.rfind("\n", 0, end) + 1, end - 64) : end]
    return any(stop == len(segment) for _, stop in find_dates(segment))
