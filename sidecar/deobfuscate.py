"""The analysis view: obfuscated values written out plainly, mapped back to the original.

Detection runs on one view of the text in which values hidden by common tricks appear in
plain form. Every view character remembers the original span it came from, so a finding
on the view redacts exactly (and at least) the original characters of the value,
including separators and invisible characters inside it.

The view is built by stages. Each finds edits of its input (a stretch replaced by new
characters, each new character mapping to a non-empty stretch of that input) and
`_apply` composes them with the map so far (the same composition as
`Normalized.compose`, fused with building the stage's map), down to the original. In
order:

1. `normalize()`: NFKC, format characters and decorative marks dropped; first, so an
   invisible character inside an entity, a %XX run or a base64 segment cannot hide it.
2. encoded (up to `max_decoded_depth` rounds; each decodes HTML entities,
   percent-encoding and base64 side by side, a later round what an earlier one
   revealed): what is decoded is normalised in turn (it may be full-width or carry
   invisible characters), and every later rule sees decoded text, as a decoded value
   may use look-alikes or be an obfuscated e-mail or number itself.
3. homoglyphs: look-alike letters and digits folded to ASCII, so the e-mail and digit
   rules below, and Presidio's ASCII patterns, see ASCII.
4. obfuscated e-mail: `john [at] example [dot] com` becomes `john@example.com`.
5. spelled digits: `four one five ...` becomes `415...`; before digit joining, so a
   number spelled in words and one spread with spaces are treated alike.
6. split digits: `4 1 1 1 ...`, `4111 1111\n1111 1111` become one digit run; last, as
   it only joins digits the rules before may have produced.

Each rule has a cheap precheck (no '&', '%', long alphanumeric run, non-ASCII
character, ...) and ordinary text comes out unchanged: a change of view on plain text
risks false positives. Nothing here logs, and no exception carries text.

The homoglyph table is built once at import from the Unicode confusables data bundled
with `confusable_homoglyphs` (confusables.json): every single non-ASCII letter or digit
that Unicode lists as confusable with one ASCII letter or digit, except the letters of
Latin-1 and Latin Extended-A (real letters of European languages, such as Turkish
dotless i) and characters NFKC already folds. Decimal digits of any script fold to their
value (Bengali four is 4, though it looks like 8). Capital look-alikes of the skeleton
`l` (Greek Iota, Cyrillic I) fold to `I`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

from sidecar.checksums import iban_valid, luhn_valid, nhs_valid, verhoeff_valid
from sidecar.dates import date_ends_at
from sidecar.normalize import Normalized, normalize

__all__ = ["DeobfuscationOptions", "deobfuscate"]


@dataclass(frozen=True, slots=True)
class DeobfuscationOptions:
    """Which de-obfuscation rules build the analysis view; each can be switched off."""

    homoglyphs: bool = True  # fold Cyrillic/Greek/other confusables of ASCII letters/digits
    split_digits: bool = True  # join digits spread with spaces/separators/line breaks/cells
    spelled_digits: bool = True  # "four one five" -> "415"
    obfuscated_email: bool = True  # "john [at] example [dot] com" -> "john@example.com"
    split_values: bool = True  # values wrapped across lines or split over table columns
    encoded: bool = True  # decode base64 / percent-encoded / HTML-entity segments to text
    min_joined_digits: int = 7  # digit joining (split or spelled) only yields runs this long
    max_decoded_depth: int = 2  # rounds of decoding: nested encodings, base64 of %-encoded

    def __post_init__(self) -> None:
        if self.min_joined_digits < 2:
            raise ValueError("min_joined_digits must be at least 2")
        if self.max_decoded_depth < 0:
            raise ValueError("max_decoded_depth must not be negative")


_DEFAULT = DeobfuscationOptions()


def deobfuscate(text: str, options: DeobfuscationOptions = _DEFAULT) -> Normalized:
    """The analysis view: normalize() plus the rules above, mapped back to `text`."""
    view = normalize(text)
    if options.encoded and options.max_decoded_depth:
        view = _decode(view, options.max_decoded_depth)
    stages: list[Callable[[str], list[_Edit]]] = []
    if options.homoglyphs:
        stages.append(_fold_homoglyphs)
    if options.split_values:
        stages.append(_join_table_parts)
        stages.append(lambda t: _join_wrapped(t, options.min_joined_digits))
    if options.obfuscated_email:
        stages.append(_join_email)
    if options.spelled_digits:
        stages.append(lambda t: _spelled_digits(t, options.min_joined_digits))
    if options.split_digits:
        stages.append(lambda t: _join_split_digits(t, options.min_joined_digits))
    for stage in stages:
        view = _apply(view, stage(view.text))
    return view


# --- edits: a stage's changes, applied with the offset map ---------------------------

# (start, end, replacement, spans): text[start:end] becomes `replacement`; character i of
# it came from spans[i], or from all of [start, end) when spans is None.
_Edit = tuple[int, int, str, Sequence[tuple[int, int]] | None]


def _apply(base: Normalized, edits: Sequence[_Edit]) -> Normalized:
    """`base` with the sorted, non-overlapping `edits` to its text applied, mapped down to
    base's original: composing the edit's map with base's as it is built (slices of base's
    map for the unchanged stretches) costs less than building it and then composing."""
    if not edits:
        return base
    text = base.text
    # base's map: start of character i is base_starts[i], its end base_ends[i + shift].
    base_starts: Sequence[int]
    base_ends: Sequence[int]
    if base.identity:
        # One int object per offset, shared by both maps (the end of i is offset i + 1).
        base_starts = base_ends = list(range(len(text) + 1))
        shift = 1
    else:
        base_starts, base_ends, shift = base.starts, base.ends, 0
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for start, end, replacement, spans in edits:
        if start > position:
            out.append(text[position:start])
            starts.extend(base_starts[position:start])
            ends.extend(base_ends[position + shift : start + shift])
        out.append(replacement)
        if spans is None:
            starts.extend([base_starts[start]] * len(replacement))
            ends.extend([base_ends[end - 1 + shift]] * len(replacement))
        else:
            starts.extend(base_starts[s] for s, _ in spans)
            ends.extend(base_ends[e - 1 + shift] for _, e in spans)
        position = end
    out.append(text[position:])
    starts.extend(base_starts[position : len(text)])
    ends.extend(base_ends[position + shift : len(text) + shift])
    original = text if base.identity else None
    if original is None:
        return Normalized("".join(out), tuple(starts), tuple(ends))
    return Normalized.from_map(original, "".join(out), starts, ends)


# --- encoded: HTML entities, percent-encoding, base64 --------------------------------


def _decode(view: Normalized, depth: int) -> Normalized:
    """Up to `depth` rounds; each decodes HTML entities, percent-encoding and base64 side by
    side (a later round decodes what an earlier one revealed: base64 of %-encoded text)."""
    for round_ in range(depth):
        edits = sorted(
            [
                *_html_entities(view.text),
                *_percent(view.text),
                *_base64(view.text),
                *(_query_plus(view.text) if round_ == 0 else ()),
            ],
            key=lambda edit: edit[0],
        )
        if not edits:
            break
        kept: list[_Edit] = []
        for edit in edits:  # a percent run glued to a base64 segment: the first wins
            if not kept or edit[0] >= kept[-1][1]:
                kept.append(edit)
        view = _apply(view, kept)
    return view


def _acceptable(decoded: str) -> bool:
    # No control characters but line breaks and tabs; no replacement characters,
    # surrogates or unassigned code points. Format characters (a zero-width space) are
    # fine: normalize() drops them.
    return bool(decoded) and all(
        c in "\t\n\r" or (unicodedata.category(c) not in ("Cc", "Cs", "Cn") and c != "\ufffd")
        for c in decoded
    )


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _html_entities(text: str) -> list[_Edit]:
    """Each entity becomes its character(s), every one mapping to the whole entity."""
    if "&" not in text:
        return []
    edits: list[_Edit] = []
    for match in _ENTITY.finditer(text):
        entity = match.group()
        decoded = html.unescape(entity)
        if decoded != entity and _acceptable(decoded):
            # An entity of a format character is dropped like the character itself.
            edits.append((match.start(), match.end(), normalize(decoded).text, None))
    return edits


# The first %XX outside the repetition: a literal `%` the re module looks for fast.
_PERCENT_RUN = re.compile(r"%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*")


def _utf8_length(lead: int) -> int:
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


_TOKEN_CHARS = frozenset("._~-/+=&?%")


def _inside_token(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] sits between URL-ish characters: a lone %XX elsewhere is
    more likely a printf format ("%2d", "%09d", "%20s") than an encoding."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return all(c.isalnum() or c in _TOKEN_CHARS for c in (before, after))


def _percent(text: str) -> list[_Edit]:
    """%XX sequences that form UTF-8 characters become them; each character maps to its
    own %XX sequence(s). Invalid bytes stay encoded; `+` is left alone; a lone %XX is
    decoded only to a printable ASCII character and inside a token (`john%40example`,
    `2015%20census`), not in `"%2d"` or `'.%09d'` (printf formats)."""
    if "%" not in text:
        return []
    edits: list[_Edit] = []
    for match in _PERCENT_RUN.finditer(text):
        run = match.group()
        data = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
        chars: list[str] = []  # consecutive decoded characters and their %XX spans
        spans: list[tuple[int, int]] = []
        index = 0
        while index <= len(data):
            size = _utf8_length(data[index]) if index < len(data) else 0
            char = None
            if size:
                try:
                    char = data[index : index + size].decode("utf-8")
                except UnicodeDecodeError:
                    char = None
            if char is not None and _acceptable(char):
                start = match.start() + 3 * index
                chars.append(char)
                spans.append((start, start + 3 * size))
                index += size
                continue
            lone = len(run) == 3
            if chars and (
                not lone
                or (" " <= chars[0] <= "~" and _inside_token(text, match.start(), match.end()))
            ):
                # An undecodable byte or the end: the decoded piece is written out.
                edits.extend(_normalized_piece("".join(chars), spans))
            chars, spans = [], []
            index += 1
    return edits


def _normalized_piece(decoded: str, spans: list[tuple[int, int]]) -> list[_Edit]:
    """One edit writing `decoded` (character i from spans[i]) normalised."""
    piece = normalize(decoded)
    mapped = [
        (spans[piece.to_original(i, i + 1)[0]][0], spans[piece.to_original(i, i + 1)[1] - 1][1])
        for i in range(len(piece.text))
    ]
    return [(spans[0][0], spans[-1][1], piece.text, mapped)]


# A query-string value: after `?key=` or `&key=`, up to the next `&`, `#` or space.
_QUERY_VALUE = re.compile(r"[?&][A-Za-z0-9_.\-\[\]]+=([^\s&#\"'<>]+)")


def _query_plus(text: str) -> list[_Edit]:
    """In a query-string value (form encoding), a `+` after the first character is a
    space: `?to=%2B1+415+555+0100` is `+1 415 555 0100`. A leading `+` stays (an
    unencoded phone number: `?to=+4915...`); a real plus in the value is `%2B`."""
    if "+" not in text or "=" not in text:
        return []
    edits: list[_Edit] = []
    for match in _QUERY_VALUE.finditer(text):
        start, end = match.span(1)
        position = text.find("+", start + 1, end)
        while position >= 0:
            edits.append((position, position + 1, " ", None))
            position = text.find("+", position + 1, end)
    return edits


_B64_CHARS = r"\-A-Za-z0-9+/_"
# 10+ characters and padding; 12+ in all is checked after ("key=c2VjcmV0..." is a segment).
# A match starts where a run of these characters does: where a match from there fails
# (its end is the run's end, or shorter, and what follows), one from inside it fails too;
# so no lookbehind for the run start, slow at every position.
_B64_SEGMENT = re.compile(rf"[{_B64_CHARS}]{{10,}}={{0,2}}(?![{_B64_CHARS}=])")
_HEX_OR_UUID = re.compile(r"[0-9A-Fa-f-]+")
_DIGITS_ONLY = re.compile(r"[0-9 +().\-]*[0-9][0-9 +().\-]*")


def _base64_text(segment: str) -> str | None:
    """The text `segment` encodes, or None if it does not look like base64 of text."""
    body = segment.rstrip("=")
    padded = len(body) != len(segment)
    if len(segment) < 12:
        return None
    if _HEX_OR_UUID.fullmatch(body):  # hashes, UUIDs, digit runs
        return None
    classes = (
        any(c.islower() for c in body)
        + any(c.isupper() for c in body)
        + any(c.isdigit() for c in body)
    )
    if classes < 2 and not padded:  # a 12-letter word is valid base64 of garbage
        return None
    standard = "+" in body or "/" in body
    url_safe = "-" in body or "_" in body
    if standard and url_safe:
        return None
    if standard or padded:
        if len(segment) % 4:
            return None
    elif len(body) % 4 == 1:
        return None
    try:
        data = base64.b64decode(
            body + "=" * (-len(body) % 4), altchars=b"-_" if url_safe else None, validate=True
        )
        decoded = data.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not any(c.islower() for c in body) and not _DIGITS_ONLY.fullmatch(decoded):
        # Upper case and digits only: an identifier (IBAN, fiscal code) far more often
        # than base64 of text, except of a number (base64 of digits has no lower case).
        return None
    return decoded if _text_like(decoded) else None


# Scripts that mix in one text: Japanese, Chinese and Korean writing.
_SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "IDEOGRAPHIC": "CJK"}


def _neutral(char: str, category: str) -> bool:
    # Punctuation and symbols shared by all scripts: Latin-1 signs, general punctuation,
    # currency, symbols and emoji, combining diacritics, full-width forms.
    code = ord(char)
    return (
        0xA0 <= code <= 0xBF
        or code in (0xD7, 0xF7)
        or 0x300 <= code <= 0x36F
        or 0x2000 <= code <= 0x206F
        or (category[0] == "S" and code >= 0x20A0)
        or category == "Zs"
        or 0xFF00 <= code <= 0xFFEF
    )


_RARE_ASCII = frozenset("`\\{}|~^[]<>")
# Latin Extended-B, IPA and spacing modifiers are rare in text but common in random
# bytes; these few are real letters (Romanian, Vietnamese, Pinyin).
_LATIN_B_LETTERS = frozenset(
    chr(c) for c in (*range(0x218, 0x21C), 0x1A0, 0x1A1, 0x1AF, 0x1B0, *range(0x1CD, 0x1DD))
)


def _text_like(decoded: str) -> bool:
    """Whether decoded bytes read as text, not as random bytes that happen to be UTF-8.

    No NUL or other control characters but tabs and line breaks (a CR only before LF);
    at least half of it letters, digits or spaces and at most a tenth rare ASCII symbols
    (`{}[]<>|~^\\); no Latin Extended-B/IPA letters but a few real ones; combining marks
    only after letters; and non-ASCII letters Latin or of one other script, at least two
    of them (random bytes give a lone Hebrew or Arabic letter among ASCII punctuation, or
    letters of several scripts).
    """
    if not decoded:
        return False
    wordy = 0
    rare = 0
    scripts: set[str] = set()
    foreign = 0
    previous = " "
    for index, char in enumerate(decoded):
        if char.isascii():
            if char == "\r":
                if decoded[index + 1 : index + 2] != "\n":
                    return False
            elif not (char.isprintable() or char in "\t\n"):
                return False
            wordy += char.isalnum() or char.isspace()
            rare += char in _RARE_ASCII
            previous = char
            continue
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return False
        if category[0] == "M" and not previous.isalpha():
            return False
        if 0x180 <= ord(char) <= 0x2FF and char not in _LATIN_B_LETTERS:
            return False
        wordy += category[0] in "LNM"
        previous = char if category[0] != "M" else previous
        if _neutral(char, category):
            continue
        script = unicodedata.name(char, "?").split(" ", 1)[0]
        if script != "LATIN":
            scripts.add(_SCRIPT_GROUPS.get(script, script))
            foreign += 1
    size = len(decoded)
    return 2 * wordy >= size and 10 * rare <= size and len(scripts) <= 1 and foreign != 1


def _base64(text: str) -> list[_Edit]:
    """A base64 segment of text becomes that text; every decoded character maps to the
    whole segment (a value found anywhere in it redacts all of it: partial base64 leaks)."""
    edits: list[_Edit] = []
    for match in _B64_SEGMENT.finditer(text):
        decoded = _base64_text(match.group())
        if decoded is not None:
            decoded = normalize(decoded).text
            if decoded:
                edits.append((match.start(), match.end(), decoded, None))
    return edits


# --- homoglyphs -----------------------------------------------------------------------


def _fold_table() -> dict[str, str]:
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )

    def source(char: str) -> bool:
        return (
            len(char) == 1
            and not char.isascii()
            and unicodedata.category(char)[0] in "LN"
            and not 0xC0 <= ord(char) <= 0x17F  # Latin-1 and Extended-A: real letters
            and unicodedata.bidirectional(char) not in ("R", "AL")  # no right-to-left
            and unicodedata.normalize("NFKC", char) == char  # normalize() folds those
        )

    def target(char: str) -> bool:
        return len(char) == 1 and char.isascii() and char.isalnum()

    table: dict[str, str] = {}
    for key, entries in data.items():
        for entry in entries:
            other = entry["c"].strip("\u200e")  # RTL entries carry direction marks
            if target(key) and source(other):
                table.setdefault(other, key)
            elif source(key) and target(other):
                table[key] = other  # the character's own entry wins
    table["\u0500"] = "d"  # Cyrillic Komi De, not in the data
    for char, ascii_char in list(table.items()):
        value = unicodedata.decimal(char, None)
        if value is not None:
            table[char] = str(value)
        elif ascii_char == "l" and char.isupper():
            table[char] = "I"
    return table


_FOLD = _fold_table()
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
_WORD = re.compile(r"[\w@.+\-]+")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ASCII_DIGIT = re.compile(r"[0-9]")


def _has_candidate(text: str) -> bool:
    return any(_fold_char(c) is not None for c in set(_ASCII_RUNS.sub("", text)))


def _fold_char(char: str) -> str | None:
    folded = _FOLD.get(char)
    if folded is None and not char.isascii():
        value = unicodedata.decimal(char, None)
        if value is not None:
            folded = str(value)
    return folded


_NOT_ASCII_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def _mostly_latin(text: str) -> bool:
    """More than 70% of the letters of `text` are Latin."""
    ascii_letters = len(text.encode("ascii", "ignore").translate(None, _NOT_ASCII_LETTERS))
    others = [c for c in _ASCII_RUNS.sub("", text) if c.isalpha()]
    latin = ascii_letters + sum(map(_latin, others))
    return latin > 0.7 * (ascii_letters + len(others))


def _latin(char: str) -> bool:
    return _LATIN_LETTER.match(char) is not None


def _fold_homoglyphs(text: str) -> list[_Edit]:
    """Fold look-alikes to ASCII inside a word (a run of letters, digits and @._-+): a
    letter look-alike when the word also holds ASCII letters, a digit look-alike when it
    holds ASCII letters or digits, either when the text's letters are more than 70% Latin;
    and only if every other non-ASCII character of the word is a Latin letter (a Cyrillic
    word with one look-alike in it stays Cyrillic, and so does a Ukrainian ordinal such as
    2-ga written in Cyrillic)."""
    if text.isascii() or not _has_candidate(text):
        return []
    latin_text: bool | None = None
    edits: list[_Edit] = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        letters = _ASCII_LETTER.search(word) is not None
        digits = letters or _ASCII_DIGIT.search(word) is not None
        if not letters:
            if latin_text is None:
                latin_text = _mostly_latin(text)
            letters, digits = latin_text, digits or latin_text
            if not digits:
                continue  # a word of another script in a text of that script
        folds = [_fold_char(c) for c in word]
        if all(f is None for f in folds) or any(
            f is None and not c.isascii() and not _latin(c)
            for c, f in zip(word, folds, strict=True)
        ):
            continue
        base = match.start()
        for offset, folded in enumerate(folds):
            if folded is not None and (letters if folded.isalpha() else digits):
                edits.append((base + offset, base + offset + 1, folded, None))
    return edits


# --- values split over table columns -------------------------------------------------

# A column header naming one part of a field: "iban (1/2)", "card [2/3]", "phone part 1",
# "ssn (2 of 2)".
_PART_HEADER = re.compile(
    r"(?i)\s*(?P<base>\S(?:.*?\S)?)\s*"
    r"(?:[(\[]\s*(?:part\s*)?(?P<k1>[1-9])\s*(?:/|of)\s*(?P<n1>[1-9])\s*[)\]]"
    r"|(?:part|pt\.?)\s*(?P<k2>[1-9])(?:\s*(?:/|of)\s*(?P<n2>[1-9]))?)\s*"
)
# "(1/2)" or "[part 2 of 3]"; "part 1", "pt. 2" (a word: the `p` is not after a letter,
# digit or `_`, checked after it, which the re module looks for fast).
_PART_BRACKETED = re.compile(r"(?i)[(\[]\s*(?:part\s*)?[1-9]\s*(?:/|of)\s*[1-9]\s*[)\]]")
_PART_WORD = re.compile(r"(?i)p(?<!\wp)(?:ar)?t\.?\s*[1-9]")


def _part_precheck(text: str) -> bool:
    return _PART_BRACKETED.search(text) is not None or _PART_WORD.search(text) is not None


_CELL_DELIMITERS = ("|", "\t", ";", ",")  # the first one in the header line
_VALUE_CELL = re.compile(r"[A-Za-z0-9 +\-./()@_]+")
_INNER_SEPARATOR = re.compile(r"[ \-./()]+")
_MIN_PART_DIGITS = 6


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line.rstrip("\r"))))
        start += len(line) + 1
    return spans


def _cells(text: str, start: int, end: int, delimiter: str) -> list[tuple[int, int]]:
    """The cells of text[start:end], each without its surrounding whitespace."""
    cells = []
    position = start
    while True:
        cut = text.find(delimiter, position, end)
        stop = end if cut < 0 else cut
        a, b = position, stop
        while a < b and text[a] in " \t":
            a += 1
        while b > a and text[b - 1] in " \t":
            b -= 1
        cells.append((a, b))
        if cut < 0:
            break
        position = cut + 1
    if delimiter == "|":  # the outer pipes of a markdown row are optional
        if len(cells) > 1 and cells[-1][0] == cells[-1][1]:
            cells.pop()
        if len(cells) > 1 and cells[0][0] == cells[0][1]:
            cells.pop(0)
    return cells


def _part_columns(headers: list[str]) -> list[tuple[int, int]]:
    """Runs of columns [first, last] whose headers name parts 1..n of one field."""
    parsed: list[tuple[str, int, int] | None] = []
    for header in headers:
        match = _PART_HEADER.fullmatch(header)
        if match is None:
            parsed.append(None)
            continue
        k = match["k1"] or match["k2"]
        n = match["n1"] or match["n2"]
        parsed.append((match["base"].lower(), int(k), int(n) if n else 0))
    runs = []
    index = 0
    while index < len(parsed):
        head = parsed[index]
        if head is None or head[1] != 1:
            index += 1
            continue
        last = index
        while (
            last + 1 < len(parsed)
            and (following := parsed[last + 1]) is not None
            and following[0] == head[0]
            and following[1] == last + 2 - index
            and following[2] == head[2]
        ):
            last += 1
        if last > index and (not head[2] or head[2] == last + 1 - index):
            runs.append((index, last))
        index = last + 1
    return runs


def _join_table_parts(text: str) -> list[_Edit]:
    """A field split over adjacent table columns whose headers name its parts
    (`iban (1/2) | iban (2/2)`, `card part 1,card part 2`; markdown, pipe, CSV,
    semicolon or tab tables) is one value again in each row below the header that has
    as many cells: the cell delimiters between the parts are dropped, and so are the
    spaces, dashes, dots and brackets inside them (`IT93 Z020 | 0817 2957` becomes
    `IT93Z0200817...`: joined as written, its groups would mislead the patterns),
    unless the joined value is an e-mail address. Only when every part is a value (letters,
    digits, `+-./()@_` and spaces) and the whole has 6+ digits or an `@`."""
    if not _part_precheck(text):
        return []
    lines = _line_spans(text)
    edits: list[_Edit] = []
    index = 0
    while index < len(lines):
        start, end = lines[index]
        index += 1
        header = text[start:end]
        delimiter = next((d for d in _CELL_DELIMITERS if d in header), None)
        if delimiter is None or not _part_precheck(header):
            continue
        header_cells = _cells(text, start, end, delimiter)
        runs = _part_columns([text[a:b] for a, b in header_cells])
        if not runs:
            continue
        while index < len(lines):
            row = _cells(text, *lines[index], delimiter)
            if len(row) != len(header_cells):
                break
            index += 1
            for first, last in runs:
                edits.extend(_merged_cells(text, row[first : last + 1]))
    return edits


def _merged_cells(text: str, cells: list[tuple[int, int]]) -> list[_Edit]:
    parts = [text[a:b] for a, b in cells]
    if not all(part and _VALUE_CELL.fullmatch(part) for part in parts):
        return []
    joined = "".join(parts)
    if "@" in joined:  # an e-mail address: the parts side by side
        return [(cells[n - 1][1], cells[n][0], "", None) for n in range(1, len(cells))]
    digits = _NOT_DIGITS.sub("", joined)
    if len(digits) < _MIN_PART_DIGITS:
        return []
    edits: list[_Edit] = []
    if _checksum_valid(digits) or _iban_valid_text(_NOT_ALNUM.sub("", joined)):
        # Compact: the value's own grouping may not survive the split (`5122-539` and
        # `3-7949-2449` are a card in groups of four).
        for number, (a, b) in enumerate(cells):
            if number:
                edits.append((cells[number - 1][1], a, "", None))
            edits.extend(
                (m.start(), m.end(), "", None) for m in _INNER_SEPARATOR.finditer(text, a, b)
            )
        return edits
    # As written, the cells joined by the value's separator (`575 78 | 7383` is
    # `575 78 7383`, `314- | 92-9198` is `314-92-9198`).
    found = _GROUP_SEPARATOR.search(joined)
    separator = found.group() if found else ""
    for number in range(1, len(cells)):
        before, after = parts[number - 1], parts[number]
        glue = "" if before[-1] in " -." or after[0] in " -." else separator
        edits.append((cells[number - 1][1], cells[number][0], glue, None))
    return edits


_GROUP_SEPARATOR = re.compile(r"(?<=[0-9A-Za-z])[ \-.](?=[0-9A-Za-z])")


def _iban_valid_text(value: str) -> bool:
    return 15 <= len(value) <= 34 and _IBAN_START.match(value) is not None and iban_valid(value)


# --- values wrapped across lines ------------------------------------------------------

# Characters a wrapped value has either side of the break.
_WRAP_SIDE = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@.")
_BREAK_BEFORE_SIDE = re.compile(r"\n(?=[0-9A-Za-z@.])")  # a line break, one of those after


def _wraps(text: str) -> Iterator[tuple[int, int, str]]:
    """Line breaks inside a token: (start, end, mark), text[start:end] being the break
    with a soft-break `=` or hyphen (the mark) and a space or tab before it."""
    for found in _BREAK_BEFORE_SIDE.finditer(text):
        position = found.start()
        start = position
        if start and text[start - 1] == "\r":
            start -= 1
        if start and text[start - 1] in " \t":
            start -= 1
        mark = ""
        if start and text[start - 1] in "=-":
            start -= 1
            mark = text[start]
        if start and text[start - 1] in _WRAP_SIDE:
            yield start, position + 1, mark


# Stretches of letters, digits, spaces, `+` and `-` either side of a break.
_STRETCH = re.compile(r"[0-9A-Za-z +\-]*")
_STRETCH_BEFORE = re.compile(r"[0-9A-Za-z +\-]*\Z")
_MAX_STRETCH = 48


def _join_wrapped(text: str, minimum: int) -> list[_Edit]:
    """A value wrapped across lines, with or without a soft-break `=` or hyphen at the
    end of the first line, is joined (the break, and the `=` or hyphen, dropped) when
    the joined value is valid where neither part is:

    - an e-mail address with a common TLD (`jane.doe@exam=\\nple.com`,
      `jane@\\nexample.com`, `jane.doe\\n@example.com`, `jane@mail.exa-\\nmple.org`),
    - an IBAN (mod 97), or digits passing the checksum of a card (Luhn, 13-19 digits),
      a Canadian SIN (Luhn, 9), an NHS number (mod 11, 10) or an Aadhaar number
      (Verhoeff, 12), or after a `+` a valid international phone number; the digits of
      the whole stretches of digits, letters, spaces and dashes either side count, and
      without a soft break the first line must hold more than the value (a label), as
      one number per line is a column.

    Prose wraps ("well-\\nknown") and lines of numbers stay as they are, and so do
    numbers the split-digit rule joins (`4111 1111\\n1111 1111`)."""
    if "\n" not in text:
        return []
    edits: list[_Edit] = []
    split: list[_Edit] | None = None
    for start, end, marker in _wraps(text):
        left = _token_before(text, start)
        right = _token_after(text, end)
        if "@" in left or "@" in right:
            kept = _wrapped_email(left, right, marker)
            if kept is not None:
                edits.append((start + len(kept), end, "", None))
            continue
        if not any(map(str.isdigit, left + right)) and not (
            left[-1:].isupper() and right[:1].isupper()
        ):
            continue
        if _wrapped_number(text, start, end, marker):
            if split is None:
                split = _join_split_digits(text, minimum)
            if not any(a < start and end <= b for a, b, _, _ in split):
                edits.append((start, end, _wrap_glue(text, start, end, marker), None))
    return edits


_LAST_GROUPS = re.compile(r"(?:([A-Za-z0-9]+)([ -]))?([A-Za-z0-9]+)\Z")


def _wrap_glue(text: str, start: int, end: int, marker: str) -> str:
    """What a wrap inside a number becomes: nothing inside a group (`+34 938 77\n74 49`,
    `ES8\n7 0182 ...`); the number's separator after a whole group (a space before the
    break, or a last group as long as the one before it: `4111 1111\n1111 1111`). A
    quoted-printable soft break is always inside."""
    if marker == "=":
        return ""
    if not marker and text[start] in " \t":
        return " "
    groups = _LAST_GROUPS.search(text, max(0, start - 48), start)
    if groups and groups.group(1) and len(groups.group(1)) == len(groups.group(3)):
        return groups.group(2)
    return ""


_TOKEN_END = re.compile(r"\S+\Z")
_TOKEN_START = re.compile(r"\S+")


def _token_before(text: str, index: int) -> str:
    found = _TOKEN_END.search(text, max(0, index - _MAX_STRETCH), index)
    return found.group() if found else ""


def _token_after(text: str, index: int) -> str:
    found = _TOKEN_START.match(text, index, index + _MAX_STRETCH)
    return found.group() if found else ""


def _email_tld_ok(address: str) -> bool:
    return address.rsplit(".", 1)[-1].lower() in _COMMON_TLDS


def _wrapped_email(left: str, right: str, marker: str) -> str | None:
    """The part of `marker` kept when left + right is an address across the break."""
    ending = _PLAIN_EMAIL.search(left)
    if ending is not None and ending.end() == len(left) and _email_tld_ok(ending.group()):
        return None  # an address ends the line; the next line is something else
    for kept in ("", marker) if marker == "-" else ("",):
        joined = left + kept + right
        cut = len(left) + len(kept)
        for found in _PLAIN_EMAIL.finditer(joined):
            if not found.start() < len(left) <= cut < found.end():
                continue
            if _PLAIN_EMAIL.fullmatch(joined, cut, found.end()):
                continue  # a whole address on one line ("Acme Corp\njane@example.com")
            after = joined[found.end() : found.end() + 1]
            if (after and (after.isalnum() or after in "-_@")) or not _email_tld_ok(found.group()):
                continue
            return kept
    return None


def _stretch_start(text: str, index: int) -> int:
    """Start of the stretch of letters, digits, spaces, `+` and `-` ending at index."""
    found = _STRETCH_BEFORE.search(text, max(0, index - _MAX_STRETCH), index)
    return found.start() if found is not None else index


def _stretch_end(text: str, index: int) -> int:
    found = _STRETCH.match(text, index, index + _MAX_STRETCH)
    return found.end() if found is not None else index


def _wrapped_number(text: str, start: int, end: int, marker: str) -> bool:
    """Whether the stretches either side of the break (text[start:end]) join into a valid
    IBAN, card, SIN, NHS or Aadhaar number, or an international phone number."""
    left_start = _stretch_start(text, start)
    right_end = _stretch_end(text, end)
    # Without a soft break, the first line must hold more than the value: one number
    # per line is a column.
    line_start = text.rfind("\n", 0, start) + 1
    labelled = bool(marker) or _NOT_IBAN_CHAR.search(text, line_start, start) is not None
    left_alnum = _NOT_ALNUM.sub("", text[left_start:start])
    if (
        labelled
        and not _iban_ends(left_alnum)
        and _iban_across(left_alnum, _NOT_ALNUM.sub("", text[end:right_end]))
    ):
        return True
    number_left = _NUMBER_BEFORE.search(text, left_start, start)
    number_right = _NUMBER_AFTER.match(text, end, right_end)
    if number_left is None or number_right is None:
        return False
    if not marker and not text[line_start : number_left.start()].strip():
        return False
    after = number_right.end()
    if (after < len(text) and text[after].isalnum()) or _DATE.match(text, end):
        return False  # the next line starts with a token or a date of its own
    if date_ends_at(text, number_left.end()):
        return False  # "...;12/03/1981\n4929...": the line ends with a date
    digits_left = _NOT_DIGITS.sub("", number_left.group())
    digits_right = _NOT_DIGITS.sub("", number_right.group())
    if marker != "=" and (_complete(digits_left) or _complete(digits_right)):
        return False  # a whole value on one line: the other line holds something else
    digits = digits_left + digits_right
    if _checksum_valid(digits):
        return True
    if not number_left.group().startswith("+"):
        return False  # only digits after a + are a phone number for sure
    return _valid_phone("+" + digits) and not _valid_phone("+" + digits_left)


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_NOT_IBAN_CHAR = re.compile(r"[^A-Z0-9 \t-]")
_NUMBER_BEFORE = re.compile(r"(?<![0-9A-Za-z])\+?[0-9](?:[0-9]|[ -](?=[0-9]))*[ -]?\Z")
_NUMBER_AFTER = re.compile(r"[0-9](?:[0-9]|[ -](?=[0-9]))*")
_IBAN_START = re.compile(r"[A-Z]{2}[0-9]{2}")


def _iban_across(left: str, right: str) -> bool:
    joined = left + right
    for begin in range(max(0, len(left) - 33), len(left)):
        if not _IBAN_START.match(joined, begin) or (begin and joined[begin - 1].isupper()):
            continue
        stop = begin
        while stop < len(joined) and (joined[stop].isdigit() or joined[stop].isupper()):
            stop += 1
        for finish in range(min(stop, begin + 34), max(begin + 15, len(left) + 1) - 1, -1):
            if iban_valid(joined[begin:finish]):
                return True
    return False


def _iban_ends(text: str) -> bool:
    """Whether a whole IBAN ends `text` (a line holding one)."""
    return any(
        _IBAN_START.match(text, begin) and iban_valid(text[begin:])
        for begin in range(max(0, len(text) - 34), len(text) - 14)
    )


def _checksum_valid(digits: str) -> bool:
    """A card (Luhn, 13-19 digits), SIN (Luhn, 9), NHS (mod 11, 10) or Aadhaar
    (Verhoeff, 12, not starting 0 or 1) number."""
    size = len(digits)
    if size == 9 or 13 <= size <= 19:
        return luhn_valid(digits)
    if size == 10:
        return nhs_valid(digits)
    if size == 12:
        return digits[0] not in "01" and verhoeff_valid(digits)
    return False


def _complete(digits: str) -> bool:
    """A whole number of its own: a checksum-valid card, SIN, NHS, Aadhaar number or ISBN."""
    if _checksum_valid(digits):
        return True
    if len(digits) == 13 and digits[:3] in ("978", "979"):
        return sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10 == 0
    return False


def _valid_phone(number: str) -> bool:
    import phonenumbers  # loaded on first use: rarely needed, and not small

    if not 8 <= len(number) <= 16:
        return False
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number)))
    except phonenumbers.NumberParseException:
        return False


# --- obfuscated e-mail ----------------------------------------------------------------

_H = r"[ \t]"
_OPEN, _CLOSE = r"[\[({<]", r"[\])}>]"
# "[at]" or "[@]", "(dot)" or "(.)": the symbol in brackets is the word in brackets.
_AT_BRACKET = rf"{_H}*{_OPEN}{_H}*(?:(?i:at)|@){_H}*{_CLOSE}{_H}*"
_DOT_BRACKET = rf"{_H}*{_OPEN}{_H}*(?:(?i:dot)|\.){_H}*{_CLOSE}{_H}*"
_AT_WORD = rf"{_H}+(?i:at){_H}+"
_DOT_WORD = rf"{_H}+(?i:dot){_H}+"
_AT_SPACED = rf"{_H}+@{_H}+"  # both sides: "apply @pytest.fixture" is no address
_DOT_SPACED = rf"{_H}+\.{_H}+"
_DOT = rf"(?:{_DOT_BRACKET}|{_DOT_WORD}|{_DOT_SPACED}|\.)"
_LOCAL_PART = r"[A-Za-z0-9_%+\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
# The written @ (anchors), the local part ending at it and the domain starting after it.
_AT_PLAIN = re.compile(rf"{_AT_BRACKET}|{_AT_SPACED}|@")
_AT_ANY = re.compile(rf"{_AT_BRACKET}|{_AT_WORD}|{_AT_SPACED}|@")
# What every written @ holds after its leading spaces: a bracketed `at` or @, an @, a
# spaced `at` word (see _written_ats).
_AT_BRACKET_CORE = re.compile(rf"{_OPEN}{_H}*(?:(?i:at)|@){_H}*{_CLOSE}")
_AT_WORD_CORE = re.compile(rf"(?<={_H})(?i:at)(?={_H})")
# The local part is matched on the reversed text from the @ backwards: anchored, cheap.
_DOT_REVERSED = (
    rf"(?:{_H}*{_CLOSE}{_H}*(?:(?i:tod)|\.){_H}*{_OPEN}{_H}*|{_H}+(?i:tod){_H}+|{_H}+\.{_H}+|\.)"
)
_LAST_LABEL = re.compile(r"[A-Za-z0-9\-]+\Z")
# TLDs an address written with bare `at` and `dot` words may end in.
_COMMON_TLDS = frozenset(
    (
        "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "me", "us",
        "uk", "de", "fr", "es", "it", "nl", "ru", "cn", "jp", "in", "br", "au", "ca", "ch",
        "se", "no", "dk", "fi", "pl", "be", "at", "ie", "nz", "za", "mx", "ar", "eu", "app",
        "dev", "ai", "tv", "xyz", "online", "email",
    )
)  # fmt: skip
_LOCAL_REVERSED = re.compile(rf"{_LOCAL_PART}(?:{_DOT_REVERSED}{_LOCAL_PART})*(?![\w.%+\-@])")
_DOMAIN = re.compile(rf"{_LABEL}(?:{_DOT}{_LABEL})+(?![\w\-@])")
_BRACKET_AT = re.compile(rf"{_OPEN}{_H}*(?:(?i:at)|@){_H}*{_CLOSE}")
# A dot word, spaced ("d" found first, fast) or bracketed.
_DOT_WORD_SPACED = re.compile(rf"(?i)d(?<={_H}d)ot{_H}")
_DOT_WORD_BRACKETED = re.compile(rf"{_OPEN}{_H}*(?:(?i:dot)|\.){_H}*{_CLOSE}")
_DOT_SEPARATOR = re.compile(rf"{_DOT_BRACKET}|{_DOT_WORD}|{_DOT_SPACED}")
_QUERY_SEPARATORS = frozenset("=?&/")
# What Presidio's e-mail pattern takes into a local part (matched backwards), and the
# signs of a URL in it.
_PRESIDIO_LOCAL_REVERSED = re.compile(r"[!#$%&'*+\-/=?^_`{|}~.\w]*")
_URL_SIGNS = re.compile(r"[/?]")
_PLAIN_EMAIL = re.compile(
    rf"{_LOCAL_PART}(?:\.{_LOCAL_PART})*@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}"
)


def _join_email(text: str) -> list[_Edit]:
    """`local [at] domain [dot] tld` (also (at) {at} <at>, spaced @ and dots, bare `at`
    and `dot` words) becomes `local@domain.tld`: each @ or . maps to its whole written
    form. Only when the result is a valid address (one @, labels of letters, digits and
    inner hyphens) with a TLD of 2+ letters; a bare word `at` also needs a `dot` word
    (bare or bracketed) in the address, so "meet at home" stays prose."""
    if "@" not in text and "dot" not in text.lower() and not _BRACKET_AT.search(text):
        return []
    dot_words = (
        _DOT_WORD_SPACED.search(text) is not None or _DOT_WORD_BRACKETED.search(text) is not None
    )
    edits: list[_Edit] = []
    done = 0
    reversed_text = text[::-1]
    size = len(text)
    # Overlapping candidates: in "a dot at at b dot com" the second ` at ` is the @.
    for found in _written_ats(text, dot_words):
        at_start, at_end = found.span()
        written = found.group()
        if at_start < done:
            continue
        domain = _DOMAIN.match(text, at_end)
        reversed_local = _LOCAL_REVERSED.match(reversed_text, size - at_start)
        if domain is None or reversed_local is None or size - reversed_local.end() < done:
            continue
        local_span = (size - reversed_local.end(), at_start)
        pieces = [(m.start(), m.end(), ".") for m in _DOT_SEPARATOR.finditer(text, *local_span)]
        if written != "@":
            pieces.append((at_start, at_end, "@"))
        pieces += [(m.start(), m.end(), ".") for m in _DOT_SEPARATOR.finditer(text, *domain.span())]
        if not pieces:
            # A plain address in a URL (`/users?filter=jane@example.com`): Presidio's
            # address pattern takes the path and query along, and its domain check then
            # rejects the whole; the view writes the separator before it as a space.
            before = local_span[0] - 1
            if before >= 0 and text[before] in _QUERY_SEPARATORS:
                taken = _PRESIDIO_LOCAL_REVERSED.match(reversed_text, size - local_span[0])
                if taken is not None and _URL_SIGNS.search(taken.group()):
                    edits.append((before, before + 1, " ", None))
                    done = domain.end()
            continue
        last_label = _LAST_LABEL.search(domain.group())
        tld = last_label.group().lower() if last_label else ""
        written_at = written.strip(" \t").lower()
        if written_at in ("at", "@") and not any(r == "." for _, _, r in pieces):
            continue  # "a @ b.T" is Python, "at home." prose: the dot must be written out
        if written_at == "at" and tld not in _COMMON_TLDS:
            continue  # "stop at first dot after": a bare `at` needs a real TLD
        joined: list[str] = []
        position = local_span[0]
        for start, end, replacement in pieces:
            joined.append(text[position:start] + replacement)
            position = end
        joined.append(text[position : domain.end()])
        if not _PLAIN_EMAIL.fullmatch("".join(joined)):
            continue
        edits.extend((a, b, r, None) for a, b, r in pieces)
        done = domain.end()
    return edits


def _written_ats(text: str, words: bool) -> Iterator[re.Match[str]]:
    """The match of _AT_ANY (with `words`) or _AT_PLAIN at every position of `text` where
    there is one, in order (they overlap). A match is spaces and then one of the cores
    above, so only the positions in the spaces before a core are tried."""
    cores = [found.start() for found in _AT_BRACKET_CORE.finditer(text)]
    position = text.find("@")
    while position >= 0:
        cores.append(position)
        position = text.find("@", position + 1)
    if words:
        cores.extend(found.start() for found in _AT_WORD_CORE.finditer(text))
    starts: set[int] = set()
    for core in cores:
        start = core
        while start and text[start - 1] in " \t":
            start -= 1
        starts.update(range(start, core + 1))
    pattern = _AT_ANY if words else _AT_PLAIN
    for start in sorted(starts):
        found = pattern.match(text, start)
        if found is not None:
            yield found


# --- spelled digits -------------------------------------------------------------------

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_DIGIT_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|oh|o)"
_SPELLED = rf"(?:(?:double|triple)[ \t-]+)?{_DIGIT_WORD}"
_SPELLED_SEPARATOR = rf"(?:{_H}*[,;/-]{_H}*|{_H}+(?:and{_H}+)?)"
# A leading "plus" is the + of an international phone number.
_SPELLED_RUN_BODY = rf"(?:\bplus{_H}+)?\b{_SPELLED}(?:{_SPELLED_SEPARATOR}{_SPELLED}\b){{2,}}"
# On lower-cased text, with a first-letter check before the word boundary (3x faster).
# (Not after a letter, digit or `_` either: the body starts at a word boundary.)
_SPELLED_RUN = re.compile(rf"(?=[zotfsendp])(?<!\w)(?:{_SPELLED_RUN_BODY})")
_SPELLED_RUN_ANY_CASE = re.compile(rf"(?i){_SPELLED_RUN_BODY}")
_SPELLED_TOKEN = re.compile(rf"(?i)\b(?:(plus)|(?:(double|triple)[ \t-]+)?({_DIGIT_WORD}))\b")
_PRECHECK_WORDS = (
    *("zero", "oh", "one", "two", "three"),
    *("four", "five", "six", "seven", "eight", "nine"),
)
_REPEAT = {"double": 2, "triple": 3}


def _spelled_digits(text: str, minimum: int) -> list[_Edit]:
    """Runs of spelled digits (zero/oh/o, one..nine, any case; `double five` is 55,
    `triple five` 555; a leading `plus` is +) separated by spaces, commas, semicolons,
    slashes, hyphens or `and` become digits when
    they are at least `minimum` digits long; each digit maps to its word (both digits of
    `double five` to the two words). Shorter runs stay words ("one of the two")."""
    lowered = text.lower()
    words = sum(lowered.count(word) for word in _PRECHECK_WORDS)
    if words < 3 and "double" not in lowered and "triple" not in lowered:
        return []  # a run of 7 digits takes three words at least
    if len(lowered) == len(text):
        runs = _SPELLED_RUN.finditer(lowered)
    else:  # lower-casing changed offsets (a dotted capital I)
        runs = _SPELLED_RUN_ANY_CASE.finditer(text)
    edits: list[_Edit] = []
    for run in runs:
        digits: list[str] = []
        spans: list[tuple[int, int]] = []
        plus = 0
        for token in _SPELLED_TOKEN.finditer(text, run.start(), run.end()):
            if token.group(1):
                plus = 1
                digits.append("+")
                spans.append(token.span())
                continue
            repeat = _REPEAT.get((token.group(2) or "").lower(), 1)
            digits.extend(_DIGIT_WORDS[token.group(3).lower()] * repeat)
            spans.extend([token.span()] * repeat)
        if len(digits) - plus >= minimum:
            edits.append((run.start(), run.end(), "".join(digits), spans))
    return edits


# --- split digits ---------------------------------------------------------------------

_DIGIT_SEPARATOR = rf"(?:{_H}{{1,3}}|{_H}?(?:[-/|._\u00b7]|\r?\n){_H}?)"
_DIGIT_RUN = re.compile(rf"[0-9]+(?:{_DIGIT_SEPARATOR}[0-9]+)+")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_NOT_DIGITS = re.compile(r"[^0-9]+")
_DATE = re.compile(r"[0-9]{4}([-/._])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([-/._])[0-9]{1,2}\2[0-9]{4}")
# Separators rare between the digits of one number in text: a value spread with them.
_RARE_SEPARATORS = frozenset({"_", "\u00b7"})
# Group patterns of numbers written with single spaces the usual way (Presidio's
# recognisers match these as they are): phone numbers, SSN, dates.
_STANDARD_SPACED = frozenset(
    {(3, 4), (3, 3, 4), (3, 2, 4), (2, 4, 4), (3, 4, 4), (1, 3, 3, 4), (2, 2, 4), (4, 2, 2)}
)
_MAX_JOINED = 19
_IRREGULAR_MIN = 13  # irregular spacing alone: card-length runs (phones vary by country)


@functools.cache  # few distinct separators (at most 3 characters of a few kinds)
def _separator_kind(separator: str) -> str:
    if "\n" in separator:
        return "newline"
    if "|" in separator:
        return "pipe"
    core = separator.strip(" \t")
    if not core:
        return "\t" if "\t" in separator else " "
    if core == separator:
        return core
    if separator[0] in " \t" and separator[-1] in " \t":
        return "spaced-punctuation"
    return "sign"  # " -10": a minus sign, not a separator


def _enumeration(groups: list[str]) -> bool:
    """0 1 2 3 ..., mostly counting up or down by one: a list, not a spread value."""
    values = [int(g) for g in groups]
    steps = [b - a for a, b in itertools.pairwise(values)]
    return max(steps.count(1), steps.count(-1)) >= 0.8 * len(steps)


def _glued(text: str, index: int, step: int) -> bool:
    """Whether the run edge at text[index] (the character outside it) continues a token:
    a letter, a digit, `_`, or a separator character followed by one ("S-1-5-32")."""
    char = text[index] if 0 <= index < len(text) else " "
    if char.isalnum() or char == "_":
        return True
    beyond = text[index + step] if 0 <= index + step < len(text) else " "
    return char in "-/|" and (beyond.isalnum() or beyond == "_")


def _deliberate(text: str, start: int, end: int, groups: list[str], kinds: list[str]) -> bool:
    """Whether a digit run looks deliberately spread (see _join_split_digits)."""
    if _glued(text, start - 1, -1) or _glued(text, end, 1) or text[start - 1 : start] in (".,:/"):
        return False
    after, after2 = text[end : end + 1], text[end + 1 : end + 2]
    if after and after in ".,:/-" and after2.isdigit():  # a decimal, a time, a further number
        return False
    if max(len(g) for g in groups) > 4:
        return False
    distinct = set(kinds)
    singles = sum(len(g) == 1 for g in groups)
    if distinct & {"\t", "sign"}:  # tab-separated values; negative numbers
        return False
    if "spaced-punctuation" in distinct:
        return len(groups) >= 3 and not _enumeration(groups)  # not "1997 - 2002"
    if distinct & {"pipe", "newline"}:
        # A value spread inside a cell or line too, in even chunks (a 2-D table of
        # numbers has uneven ones); one number per cell or line is a row or column.
        even = len({len(g) for g in groups[:-1]}) == 1 or 2 * singles > len(groups)
        if distinct & {".", *_RARE_SEPARATORS}:
            return False  # "-$17.22\n10/08/2025": amounts and dates on their lines
        return bool(distinct - {"pipe", "newline"}) and even
    if distinct & {".", *_RARE_SEPARATORS} or (distinct == {"/"} and 2 * singles <= len(groups)):
        return _spread_with_punctuation(text, start, end, groups, distinct)
    if len(distinct) > 1:
        return _DATE.search(text, start, end) is None
    if 2 * singles > len(groups):
        return not _enumeration(groups)
    if distinct == {" "} and text[start - 1 : start] != "+":
        lengths = tuple(len(g) for g in groups)
        thousands = lengths[0] <= 3 and set(lengths[1:]) == {3}  # 1 099 000
        return (
            sum(lengths) >= _IRREGULAR_MIN
            and len(set(lengths)) > 1
            and lengths not in _STANDARD_SPACED
            and not thousands
        )
    return False


def _spread_with_punctuation(
    text: str, start: int, end: int, groups: list[str], distinct: set[str]
) -> bool:
    """One unspaced separator all along: `_` or a middle dot in 3+ groups (not Python's
    `1_000_000`), `.` or `/` in 5+ groups, or 4+ after a `+`, at most one of them a
    single digit (not a date, version, IP address, OID or fraction)."""
    if len(distinct) > 1 or _enumeration(groups) or _DATE.search(text, start, end):
        return False  # "1.25 1.50", "0_1_2_3", "2024_01_15"
    (separator,) = distinct
    lengths = [len(g) for g in groups]
    if separator in _RARE_SEPARATORS:
        thousands = lengths[0] <= 3 and set(lengths[1:]) == {3}
        return len(groups) >= 3 and not (separator == "_" and thousands)
    plus = text[start - 1 : start] == "+"
    singles = lengths.count(1)
    return (len(groups) >= 5 or (plus and len(groups) >= 4)) and singles <= 1


def _join_split_digits(text: str, minimum: int) -> list[_Edit]:
    """A run of digit groups becomes one digit string when it has `minimum` to 19 digits
    (longer runs are data), groups of at most 4 digits, separators of at most 3
    characters (1-3 spaces or tabs, or one of `- / | . _ ·` or a line break with at most a space
    either side), is not glued to a token (a letter, digit or `_` next to it, or `-/|`
    and then one: "S-1-5-32"), nor to a decimal or time (`.,:/` before it, or after it
    followed by a digit), has no tab (TSV) and no one-sided punctuation (" -10" is a
    minus sign), and looks deliberately spread:

    - punctuation with a space either side in a run of 3+ groups (`5 5 5 - 1 2 3 - 4`;
      not "1997 - 2002"),
    - pipes or line breaks together with another separator, the groups before the last
      of one length or mostly single digits (`| 4111 1111 | 1111 1111 |`,
      `4111 1111\\n1111 1111`); one number per cell or line is a row or column of
      numbers, uneven groups a table,
    - mixed separators (`555 123-4567`), unless it holds a date (`2024-01-15 2024-02-01`),
    - mostly single-digit groups (`4 1 1 1 ...`), unless they count up or down by one
      (`0 1 2 3 4 5 6 7`: an enumeration),
    - one unspaced `_` or middle dot all along in 3+ groups (`437_87_00_70`, not
      `1_000_000`), or `.` or `/` in 5+ groups, 4+ after a `+`, at most one of one digit
      (`529.518.59.37.83.26.91`; not dates, versions, IP addresses or OIDs),
    - spaces in an irregular group pattern of 13+ digits (`41 1111 11 111 1111`) that is
      not a standard one (3-3-4, 3-2-4, 2-4-4, 3-4-4, 1-3-3-4, 3-4, dates 2-2-4, 4-2-2)
      nor thousands (`1 099 000`); equal groups are rows of numbers (`2023 2024 2025`),
      shorter irregular runs are national phone formats, and a leading `+` is an
      international phone number.

    Commas end a run (thousands, lists), and so do dots but in the forms above;
    several spaces count as one (aligned table columns). Standard formats
    (`4111 1111 1111 1111`, `555-123-4567`, `078-05-1120`, `078 05 1120`,
    `+44 20 7946 0958`) stay as written: Presidio matches them. Digits map to
    themselves; the dropped separators lie inside the value's span."""
    if not _DIGIT_RUN.search(text):
        return []
    edits: list[_Edit] = []
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        groups = _NOT_DIGITS.split(run)  # the run starts and ends with a digit
        if not minimum <= sum(map(len, groups)) <= _MAX_JOINED:
            continue
        kinds = list(map(_separator_kind, _DIGIT_GROUP.split(run)[1:-1]))
        if not _deliberate(text, match.start(), match.end(), groups, kinds):
            continue
        base = match.start()
        spans = [
            (base + g.start() + i, base + g.start() + i + 1)
            for g in _DIGIT_GROUP.finditer(run)
            for i in range(len(g.group()))
        ]
        edits.append((match.start(), match.end(), "".join(groups), spans))
    return edits
