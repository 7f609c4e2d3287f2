"""Precision rules applied to pattern and NER findings: what is not personal data.

Presidio flags every date, every URL and every run of digits a pattern accepts. Most of
those in real traffic are log timestamps, release dates, documentation links, order and
tracking numbers, version strings, UUIDs and hashes. These rules, each switchable in
policies.yaml (`detection.dates`, `detection.urls`, `detection.lookalikes`), drop such
findings. Dates are decided last: under the default `dates.mode: personal_texts` every
date of a text that holds other personal data is kept. The policy's allow-list applies
here too, so an allowed value never makes a text personal. They read the analysed text
around a finding and return kept findings only; they never copy or report the text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache

from governance.policy import Detection
from sidecar import gazetteers
from sidecar.finding import Finding

__all__ = ["NUMERIC_ENTITIES", "PrecisionRules", "plausible_ner"]

# Entities whose values are digit runs (with separators); lookalike rules apply to them.
NUMERIC_ENTITIES = frozenset(
    {
        "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "UK_NHS", "CA_SIN", "IN_AADHAAR",
        "US_BANK_NUMBER", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "MEDICAL_LICENSE",
        "DATE_TIME", "IP_ADDRESS",
    }
)  # fmt: skip

# A "token" around a finding: what a tokenizer of identifiers would keep together.
_TOKEN_CHAR = re.compile(r"[0-9A-Za-z._+\-]")
_VERSION = re.compile(r"[vV]?\d+(?:\.\d+){2,}(?:[-+][0-9A-Za-z.\-]+)?|[vV]\d+\.\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HASH = re.compile(r"(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{7,128}")
_LETTER = re.compile(r"[A-Za-z]")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# A record id compared or assigned in code or SQL: "WHERE id = 3500491955", "user_id=..."
_CODE_ID = re.compile(r"(?i)(?:\bid|_id|Id)\s*(?:=|==|:=)\s*['\"]?$")
_DAY_BEFORE = re.compile(r"(?i)(?<![\d.:/-])\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?$")
# "Label: ", "- label = ", "\"key\": \"" at the start of a line, before the date.
_RECORD_LABEL = re.compile(r"""[ \t>*-]*["']?([A-Za-z][\w .'/()-]{0,40}?)["']?\s*[:=]\s*["']?$""")
_EVENT_LABEL = re.compile(
    r"(?i)\b(?:created|updated|modified|changed|timestamp|time|generated|printed|sent"
    r"|received|logged|exported|retrieved|invoice|invoiced|due|order|ordered|shipped"
    r"|delivered|dispatched|paid|payment|transaction|posted|ticket|opened|closed|resolved"
    r"|release|released|version|build|deployed|published|last\s+(?:login|seen|contact)"
    r"|report|statement|period|run|job|scan)\b"
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Clause boundaries: ". ", "; ", "|", tab.
_CLAUSE_BREAK = re.compile(r"[.;!?](?:\s|$)|[|\t]")
_CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_MONTH_NAME = re.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])"
)
_ISO_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d")
_DOTTED_PHONE = re.compile(r"\+?\d{2,4}(?:\.\d{2,4}){2,4}")
_DOTTED_DATE = re.compile(
    r"(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:19|20)?\d\d"
    r"|(?:19|20)\d\d\.(?:0?[1-9]|1[0-2])\.(?:0?[1-9]|[12]\d|3[01])"
)
# A URL is personal when it names a person's page: a profile path or a one-segment user
# page on a code host, a home directory, or query parameters that carry identity.
_PERSONAL_URL = re.compile(
    r"""(?ix)
    (?:linkedin\.com/(?:in|pub)/
      | (?<![\w\-])(?:twitter|x|facebook|instagram|tiktok|threads)\.(?:com|net)
        /@?[\w.\-]+/?(?:$|[?#])
      | (?<![\w\-])(?:github|gitlab|bitbucket)\.(?:com|org)/[\w.\-]+/?(?:$|[?#])
      | medium\.com/@ | about\.me/ | keybase\.io/ | /~[\w.\-]+
      | /(?:users?|profiles?|people|members?|u|author|authors|staff)/[\w.\-%@]+
      | [?&](?:e-?mail|name|first_?name|last_?name|user(?:name)?|uid|login|phone)=
      | [\w.%+\-]+@[\w\-]+\.
    )
    """
)


# In a name these never occur; in identifiers, paths and markup they do.
_CODE_CHARS = re.compile(r"[0-9/\\=:_#@<>{}\[\]()|`$%*^~]")
_PLACE_CODE_CHARS = re.compile(r"[\\=:_#@<>{}\[\]()|`$%*^~]")
# Where a name starts inside a span the model ran too far back: name="Noémi Clément.
_LEAD_IN = re.compile(r"""[="'<>(\[{|:]""")
# House numbers ("221B", "4/9") and postcode halves ("SW1A", "3FS") are a place's digits.
_HOUSE_NUMBER = re.compile(
    r"(?:\d{1,5}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)?|[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2}),?"
)
_WORDS = re.compile(r"[^\W\d_]+")


@cache
def _known_names() -> frozenset[str]:
    return gazetteers.all_given_names() | gazetteers.surnames()


def plausible_ner(text: str, finding: Finding) -> Finding | None:
    """The NER model's PERSON or LOCATION label, cut to what is believable, or None.

    The small model's spans run over line ends ("Jane Roe\nNotes") and back into code
    (`name="Jane Roe`): they are cut to the name's line and past the last quote or `=`.
    It also labels product names ("Pixel Forge"), code ("java.lang"), ids ("Shipment
    1ZRT..."), and capitalised words ("Background", "Mark it as read") as people; those
    are dropped. Names found by the name and address rules do not pass through here.
    """
    start, end = finding.start, finding.end
    newline = text.find("\n", start, end)
    if newline >= 0:
        end = newline
    cut = _trimmed(text, Finding(finding.entity, start, end, finding.score), ".,;'\"")
    lead_ins = [match.end() for match in _LEAD_IN.finditer(text, cut.start, cut.end)]
    if lead_ins:
        cut = _trimmed(text, Finding(finding.entity, lead_ins[-1], cut.end, cut.score), "")
    value = text[cut.start : cut.end]
    if not value:
        return None
    token_start, token_end = _token_around(text, cut.start, cut.end)
    if "." in text[token_start:token_end].strip("."):  # java.lang, re.html: identifiers
        return None
    words = _WORDS.findall(value)
    if not words:
        return None
    folded = [word.lower() for word in words]
    known = _known_names()
    if finding.entity != "PERSON":
        if _PLACE_CODE_CHARS.search(value) or not words[0][0].isupper():
            return None
        # Digits only as house numbers ("Junitzplatz 4/9", "221B"): not "ea1b92a", "N5".
        for token in value.split():
            if any(c.isdigit() for c in token) and not _HOUSE_NUMBER.fullmatch(token):
                return None
        if len(words) == 1 and len(words[0]) <= 2 and value.isalpha():
            return None  # "PO", "UK": too short to be a place of a person
        return cut
    if _CODE_CHARS.search(value):
        return None
    if not words[0][0].isupper() and not all(w in known for w in folded):
        return None  # lower case: only when every word is a known name ("james cunningham")
    given = gazetteers.given_names()
    ordinary = [gazetteers.is_english_word(w) and w not in given for w in folded]
    if all(ordinary):  # "Background", "Mark", "Pixel Forge": words, not names
        return None
    # Several words: a known name among them, or no ordinary word at all
    # ("Maksymilian Müller-Lüdenscheidt" yes; "Globex Studio", "Lumen Desk" no).
    if len(folded) == 1:
        # A lone word the model calls a person and that is also an English word
        # ("Jasmine", "Rose", "Summer") is left to the name rules, which need a cue.
        return None if gazetteers.is_english_word(folded[0]) else cut
    if not any(ordinary) or any(w in known for w in folded):
        return cut
    return None


def _trimmed(text: str, finding: Finding, wrappers: Iterable[str]) -> Finding:
    """Without surrounding white space (the NER model's spans often end in line breaks)
    or, for URLs, the quotes and brackets Presidio's pattern takes along."""
    strip = set(wrappers)
    start, end = finding.start, finding.end
    while start < end and (text[start].isspace() or text[start] in strip):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in strip):
        end -= 1
    if (start, end) == (finding.start, finding.end):
        return finding
    return Finding(finding.entity, start, end, finding.score)


_PROFILE_CUE = re.compile(
    r"(?i)\b(?:profile|portfolio|home\s?page|website|personal\s+(?:site|page)|blog|linkedin"
    r"|github|gitlab|twitter|mastodon|instagram|facebook)\b[\"']?\s*(?:is\s+at|at|:|=)?\s*[\"']?$"
)
_URL_WRAPPERS = frozenset("\"'<>()[]{},;")
_HOST = re.compile(r"(?i)(?:[a-z][a-z0-9+.\-]*://)?(?:www\.)?([^/?#:@\s]+)")


def _personal_url(text: str, finding: Finding, owners: frozenset[str] = frozenset()) -> bool:
    if _PERSONAL_URL.search(text, finding.start, finding.end):
        return True
    # Introduced as someone's page: "portfolio is at ...", "linkedin": "...", "GitHub ...".
    if _PROFILE_CUE.search(text[_line_start(text, finding.start, 32) : finding.start]):
        return True
    # A personal home page: the site's name is a person's ("janedoe.dev", "jane-doe.me").
    host = _HOST.match(text, finding.start, finding.end)
    if host is None or host.group(1).count(".") != 1:
        return False
    label = host.group(1).split(".")[0].lower()
    return _looks_like_full_name(label) or any(owner in label for owner in owners)


def _looks_like_full_name(label: str) -> bool:
    """A site name made of a given name and more: "jane-roe", "janeroe", "benjaminpant"."""
    given = gazetteers.given_names()
    surnames = gazetteers.surnames()
    parts = [p for p in label.split("-") if p]
    if len(parts) >= 2:
        return parts[0] in given and len(parts[1]) >= 2
    if gazetteers.is_english_word(label):
        return False
    for cut in range(3, len(label) - 2):
        if label[:cut] not in given:
            continue
        rest = label[cut:]
        # A longer given name, or any given name with a known name after it.
        if cut >= 4 or rest in surnames or rest in given or rest[:4] in surnames:
            return True
    return False


def _in_person_record(text: str, finding: Finding, persons: Sequence[Finding]) -> bool:
    """A date on a labelled line of a record (lines up to a blank line) naming a person."""
    line_start = text.rfind("\n", 0, finding.start) + 1
    label = _RECORD_LABEL.match(text, line_start, finding.start)
    if label is None or _EVENT_LABEL.search(label.group(1)):
        return False
    blank_before = _BLANK_LINE.search(text[:line_start][::-1])
    block_start = line_start - blank_before.start() if blank_before else 0
    blank_after = _BLANK_LINE.search(text, finding.end)
    block_end = blank_after.start() if blank_after else len(text)
    return any(block_start <= p.start and p.end <= block_end for p in persons)


def _with_day(text: str, finding: Finding) -> Finding:
    """Take in a day the model left out: "3rd" of "DOB 3rd March 1977"."""
    day = _DAY_BEFORE.search(text, max(0, finding.start - 12), finding.start)
    if day is None:
        return finding
    return Finding(finding.entity, day.start(), finding.end, finding.score)


def _continues(text: str, index: int, step: int) -> bool:
    """Does a digit run go on at `index` (next to a value): "9055" in "10.0.17146.9055"?"""
    if not 0 <= index < len(text):
        return False
    if text[index].isalnum():
        return True
    after = index + step
    return text[index] in ".," and 0 <= after < len(text) and text[after].isdigit()


def _is_ip(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def _line_start(text: str, index: int, limit: int) -> int:
    start = max(0, index - limit)
    newline = text.rfind("\n", start, index)
    return start if newline < 0 else newline + 1


def _token_around(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and _TOKEN_CHAR.match(text, start - 1):
        start -= 1
    while end < len(text) and _TOKEN_CHAR.match(text, end):
        end += 1
    # Sentence punctuation is not part of a token: "see v2.1.0." or "id 42-".
    while end > start and text[end - 1] in ".-+":
        end -= 1
    return start, end


def _cue_pattern(cues: Iterable[str], suffix: str) -> re.Pattern[str]:
    words = sorted({cue.strip().lower() for cue in cues if cue.strip()}, key=len, reverse=True)
    alternatives = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in words)
    return re.compile(rf"(?i)(?<![0-9A-Za-z])(?:{alternatives}){suffix}")


class PrecisionRules:
    """The policy's date, URL and lookalike rules and its allow-list, compiled once per
    policy."""

    def __init__(self, detection: Detection) -> None:
        # The policy's allow-list: values that are never personal data (support@acme.com).
        self._allow = frozenset(detection.allow_list)
        self._dates_all = detection.dates.mode == "all"
        self._dates_in_personal_texts = detection.dates.mode == "personal_texts"
        min_age = detection.dates.birth_date_min_age
        self._birth_before = datetime.now(UTC).year - min_age if min_age else None
        self._record_dates = detection.dates.record_dates
        _known_names()  # built at start, not on the first request
        self._date_window = detection.dates.window_chars
        self._date_cue = _cue_pattern(detection.dates.cues, r"(?![0-9A-Za-z])")
        self._urls_all = detection.urls.mode == "all"
        lookalikes = detection.lookalikes
        self._shapes = [
            shape
            for shape, on in (
                (_VERSION, lookalikes.versions),
                (_UUID, lookalikes.uuids),
                (_HASH, lookalikes.hashes),
            )
            if on
        ]
        self._glued = lookalikes.order_numbers
        # "Order #", "tracking number:", "invoice no. ", "ref=" right before the value.
        self._order_cue = (
            _cue_pattern(
                lookalikes.order_cues,
                r"s?(?:\s*(?:no|nr|num|number|id|code)\.?)?\s*[:#=]?\s*[#]?$",
            )
            if lookalikes.order_numbers
            else None
        )

    def apply(self, text: str, findings: Sequence[Finding]) -> list[Finding]:
        """The findings that are personal data by these rules."""
        kept = []
        # Not kept on self: one PrecisionRules serves every detection thread.
        persons = [f for f in findings if f.entity == "PERSON"]
        # Words of the people named here, from names and e-mail local parts: a site
        # called after one of them is theirs ("abadami@..." beside "advikabadami.dev").
        # Only URLs need them.
        owners = (
            frozenset(
                word.lower()
                for f in findings
                if f.entity in ("PERSON", "EMAIL_ADDRESS")
                for word in _LETTER_RUN.findall(text[f.start : f.end].split("@")[0])
                if len(word) >= 4
            )
            if any(f.entity == "URL" for f in findings)
            else frozenset()
        )
        dates = []
        for finding in findings:
            if finding.entity == "DATE_TIME":
                dates.append(_with_day(text, _trimmed(text, finding, "")))
                continue
            finding = _trimmed(text, finding, _URL_WRAPPERS if finding.entity == "URL" else "")
            if self._keep(text, finding, owners):
                kept.append(finding)
        # Dates last: whether the text holds other personal data decides them.
        personal_text = self._dates_in_personal_texts and bool(kept)
        kept.extend(
            date
            for date in dates
            if self._allowed(text, date)
            and not self._lookalike(text, date)
            and (self._dates_all or personal_text or self._person_linked(text, date, persons))
        )
        return kept

    def _allowed(self, text: str, finding: Finding) -> bool:
        return finding.end > finding.start and text[finding.start : finding.end] not in self._allow

    def _keep(self, text: str, finding: Finding, owners: frozenset[str]) -> bool:
        if not self._allowed(text, finding):
            return False
        entity = finding.entity
        if entity == "URL":
            return self._urls_all or _personal_url(text, finding, owners)
        return entity not in NUMERIC_ENTITIES or not self._lookalike(text, finding)

    def _birth_like(self, text: str, finding: Finding) -> bool:
        """A full date old enough to be a birth date, in a text that names a person."""
        if self._birth_before is None:
            return False
        value = text[finding.start : finding.end]
        year = _YEAR.search(value)
        if year is None or not 1900 <= int(year.group(0)) <= self._birth_before:
            return False
        # Day and month too: "1984" or "in March 1990" alone is not a birth date.
        rest = value[: year.start()] + " " + value[year.end() :]
        numbers = len(re.findall(r"\d{1,2}", rest))
        return numbers >= 2 or (numbers == 1 and bool(_MONTH_NAME.search(rest)))

    def _beside(self, text: str, finding: Finding, persons: Sequence[Finding]) -> bool:
        """A date in the same clause as a named person, within the window: "payroll for
        Jane Roe (SIN ...), starting 2023-11-20". A log line's own timestamp is not."""
        line_start = text.rfind("\n", 0, finding.start) + 1
        if not text[line_start : finding.start].strip(" \t[("):
            return False  # the line's timestamp
        if _CLOCK_TIME.search(text, finding.start, finding.end):
            return False  # 2024-01-05T10:22:01: an event's time, not a person's date
        for person in persons:
            if person.end <= finding.start:
                gap = text[person.end : finding.start]
            elif finding.end <= person.start:
                gap = text[finding.end : person.start]
            else:
                continue
            if len(gap) <= self._date_window and "\n" not in gap and not _CLAUSE_BREAK.search(gap):
                return True
        return False

    def _under_cue_header(self, text: str, finding: Finding) -> bool:
        """A date in a table column whose header is a cue ("| DOB |", "birth_date,")."""
        line_start = text.rfind("\n", 0, finding.start) + 1
        line_end = text.find("\n", finding.end)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        separator = next((s for s in ("|", "\t", ";", ",") if line.count(s) >= 2), None)
        if separator is None:
            return False
        column = text.count(separator, line_start, finding.start)
        # The header is the first line of the block of lines with as many separators.
        header = line
        cursor = line_start
        for _ in range(200):
            if cursor == 0:
                break
            previous_start = text.rfind("\n", 0, cursor - 1) + 1
            previous = text[previous_start : cursor - 1]
            if previous.count(separator) != line.count(separator):
                break
            header, cursor = previous, previous_start
        if header is line:
            return False
        cells = header.split(separator)
        return column < len(cells) and bool(
            self._date_cue.search(cells[column].replace("_", " ").replace("-", " "))
        )

    def _lookalike(self, text: str, finding: Finding) -> bool:
        start, end = _token_around(text, finding.start, finding.end)
        token = text[start:end]
        if finding.entity == "IP_ADDRESS" and _is_ip(token):
            return False  # 203.0.113.7 has a version's shape; an address is the reading
        if finding.entity == "DATE_TIME" and _DOTTED_DATE.fullmatch(token):
            return False  # 12.09.1949 likewise: a date is the reading
        if finding.entity == "PHONE_NUMBER" and _DOTTED_DATE.fullmatch(token):
            return True  # 03.03.1984: a date; the date recognizer has it too
        if finding.entity == "PHONE_NUMBER" and _DOTTED_PHONE.fullmatch(token):
            return False  # 202.555.0147: groups of 2-4 digits are a phone's, not a version's
        if any(shape.fullmatch(token) for shape in self._shapes):
            return True
        if self._glued and (start < finding.start or end > finding.end):
            # Digits glued to letters in one identifier ("ORD-2024-118822", "build-20240105",
            # "A1234567"), or a value cut out of a longer run: a part number, not a phone
            # or a date.
            outside = text[start : finding.start] + text[finding.end : end]
            if _LETTER.search(outside):
                return True
            if _continues(text, finding.start - 1, -1) or _continues(text, finding.end, 1):
                return True
        if finding.entity == "PHONE_NUMBER":
            value = text[finding.start : finding.end]
            # Fewer than seven digits is no phone number anywhere (amounts, timeouts,
            # "169/12"); a phone never holds a date or a bracket pair.
            if sum(c.isdigit() for c in value) < 7 or _ISO_DATE.search(value):
                return True
            if "[" in value or "]" in value:
                return True
        if self._order_cue is not None:
            before = text[_line_start(text, start, 40) : start]
            if self._order_cue.search(before) or _CODE_ID.search(before):
                return True
        return False

    def _person_linked(self, text: str, finding: Finding, persons: Sequence[Finding]) -> bool:
        if persons and (
            self._birth_like(text, finding)
            or self._beside(text, finding, persons)
            or (self._record_dates and _in_person_record(text, finding, persons))
        ):
            return True
        if self._under_cue_header(text, finding):
            return True
        line_start = _line_start(text, finding.start, self._date_window)
        # The cue must be in the same clause: "DOB 1981-03-12. Deployed 2024-01-05" links
        # only the first date.
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, line_start, finding.start)]
        if breaks:
            line_start = breaks[-1]
        elif finding.start - line_start < self._date_window and line_start > 0:
            # A date early on its line may answer the line before ("Date of birth on
            # file?\nCaller: It's 1971-03-28"): the cue may be on that line.
            line_start = _line_start(text, line_start - 1, self._date_window)
        if self._date_cue.search(text, line_start, finding.start):
            return True
        # "12/03/1981 (DOB)": a cue just after the date.
        after_end = text.find("\n", finding.end, finding.end + 16)
        after = text[finding.end : after_end if after_end >= 0 else finding.end + 16]
        return bool(self._date_cue.search(after))
