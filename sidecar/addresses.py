"""Rule-based postal-address detection: street lines, postcodes and cities.

`AddressRecognizer.find(text)` returns `Finding("LOCATION", start, end, score)` spans
(offsets into `text`, end exclusive), never strings. Street line, postcode and city are
**separate findings** (as the evaluation labels them): "12 Baker Street, Leeds LS1 4AP" gives
"12 Baker Street", "Leeds" and "LS1 4AP". Unit parts ("Flat 4, ", ", Apt. 5", "3º B") are
part of the street finding. Overlaps are merged (the longest wins).

Rules:

- streets: house number + name + street type (English, number first: "221B Baker Street",
  "1600 Pennsylvania Ave NW"); German/Dutch compounds or separate type words, number after
  ("Hauptstraße 5", "Berliner Str. 12", "Keizersgracht 123"); French, number first
  ("12 rue de la Paix", "5, avenue Foch"); Spanish and Italian, type first, number after
  ("Calle Mayor 12, 3º B", "Via Roma 12"). The tables below list the type words.
- postcodes, only in address context: after a label ("ZIP", "postcode", "PLZ",
  "code postal", "CAP", "código postal"); after a US state ("IL 62704"); next to a city
  ("10115 Berlin", "Leeds LS1 4AP", "SW1A 1AA London", "1015 CJ Amsterdam"); or right after
  a street line. UK and Canadian codes use their full formats.
- cities: a capitalised word sequence after a postcode or before a US state + ZIP; the
  segment after a street line ("12 Baker Street, Leeds"); after "lives in", "moved to",
  "resident of", "City:" labels and the like; gazetteer cities (GeoNames, common words and
  given names removed) after "from" / "based in" and anywhere within a personal-address
  context (address, lives, ship to, deliver to, home, residence, born in...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import regex

from sidecar import gazetteers
from sidecar.finding import Finding
from sidecar.gazetteers import word_set
from sidecar.names import merge_findings

__all__ = ["AddressOptions", "AddressRecognizer"]

ENTITY = "LOCATION"

# -- data tables (extend freely) ----------------------------------------------------------------

# English street types (USPS/Royal Mail usage), number first: "12 Baker Street".
EN_STREET_TYPES: tuple[str, ...] = (
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "place",
    "pl",
    "terrace",
    "ter",
    "way",
    "close",
    "crescent",
    "cres",
    "square",
    "sq",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "circle",
    "cir",
    "trail",
    "trl",
    "row",
    "mews",
    "grove",
    "gardens",
    "gdns",
    "hill",
    "walk",
    "path",
    "pike",
    "alley",
    "plaza",
    "expressway",
    "freeway",
    "turnpike",
    "loop",
    "crossing",
    "xing",
    "point",
    "pt",
    "ridge",
    "heights",
    "hts",
    "park",
    "green",
    "view",
    "vista",
    "run",
    "pass",
    "commons",
    "meadows",
    "estates",
    "landing",
    "junction",
    "jct",
    "port",
    "harbor",
    "harbour",
    "quay",
    "wharf",
    "parade",
    "broadway",
    "esplanade",
    "embankment",
    "rise",
    "vale",
    "wynd",
)
# Further USPS Publication 28 (Appendix C1) primary street suffixes, incl. plurals. Most are
# ordinary words, so a line ending in one needs confirmation (`_confirmed`): a unit, an
# address label before it, or a city / postcode after it.
EN_MORE_TYPES: frozenset[str] = word_set(
    """
    annex arcade bayou beach bend bluff bluffs bottom branch bridge brook brooks burg burgs
    bypass camp canyon cape causeway center centre centers circles cliff cliffs club common
    corner corners course courts cove coves creek crest crossroad crossroads curve dale dam
    divide drives estate extension extensions falls ferry field fields flat flats ford fords
    forest forge forges fork forks fort gateway glen glens greens groves harbors haven hills
    hollow inlet island islands isle junctions key keys knoll knolls lake lakes land light
    lights lock locks lodge mall manor manors meadow mill mills mission motorway mount
    mountain mountains neck orchard oval overpass parks parkways pine pines plain plains
    points ports prairie radial ramp ranch rapid rapids rest ridges river roads route
    shoal shoals shore shores skyway spring springs spur spurs squares station stravenue
    stream streets summit throughway trace track trafficway tunnel underpass union unions
    valley valleys viaduct views village villages ville walks wall ways well wells
    """
)
# Types that are also very common words: the street name before them must be capitalised.
EN_WEAK_TYPES: frozenset[str] = word_set(
    """
    place way close court row grove hill walk path run pass point view vista park green
    commons landing junction port rise vale loop trail heights ridge crossing estates
    meadows pike alley square circle gardens parade
    """
)
EN_DIRECTIONS = (
    r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)"
)
# Unit parts: "Apt 4B", "Suite 200", "Flat 3", "Unit 7", "#12", "Floor 2".
UNIT_WORDS = (
    r"(?:apt|apartment|suite|ste|unit|flat|studio|floor|fl|room|rm|bldg|building|lot|no|\#)"
)

# German / Dutch street types: compound suffixes ("Lindenstraße", "Keizersgracht") or
# separate words ("Berliner Straße", "Am Markt"); number after.
DE_NL_SUFFIXES: tuple[str, ...] = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "platz",
    "allee",
    "gasse",
    "damm",
    "ufer",
    "chaussee",
    "ring",
    "steig",
    "pfad",
    "markt",
    "graben",
    "straat",
    "laan",
    "gracht",
    "plein",
    "kade",
    "singel",
    "dijk",
    "steeg",
    "hof",
    "pad",
    "dreef",
    "wal",
    "burgwal",
    "haven",
    "baan",
    "boulevard",
    "straatweg",
    "kanaal",
)
# French street types; number first: "12 rue de la Paix", "5 bis, avenue Foch".
FR_TYPES: tuple[str, ...] = (
    "rue",
    "avenue",
    "av.",
    "boulevard",
    "bd",
    "bd.",
    "chemin",
    "place",
    "allée",
    "allee",
    "impasse",
    "quai",
    "route",
    "cours",
    "passage",
    "square",
    "voie",
    "rond-point",
    "faubourg",
    "sentier",
    "promenade",
    "esplanade",
    "villa",
    "cité",
    "hameau",
    "résidence",
)
# Spanish / Italian types; type first, number after: "Calle Mayor 12", "Via Roma 12".
ES_IT_TYPES: tuple[str, ...] = (
    "calle",
    "c/",
    "c.",
    "avenida",
    "avda.",
    "avda",
    "av.",
    "plaza",
    "pza.",
    "paseo",
    "pº",
    "ronda",
    "camino",
    "carrera",
    "travesía",
    "travesia",
    "glorieta",
    "rambla",
    "carretera",
    "ctra.",
    "callejón",
    "pasaje",
    "via",
    "viale",
    "piazza",
    "piazzale",
    "corso",
    "largo",
    "vicolo",
    "strada",
    "borgo",
    "contrada",
    "lungomare",
    "lungotevere",
    "vico",
    "salita",
    "rua",
    "praça",
    "praca",
    "travessa",
    "estrada",
    "rodovia",
    "ladeira",
    "ul.",
    "al.",
    "os.",
    "rotonda",
    "stretto",
    "canale",
    "incrocio",
    "piazzetta",
    "traversa",
    "alameda",
    "cañada",
    "pasadizo",
    "vial",
    "cuesta",
    "urbanización",
    "urbanizacion",
    "acceso",
    "bajada",
    "bulevar",
    "senda",
)
# Joining words inside French/Spanish/Italian/Dutch street names.
NAME_JOINERS = (
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "l'",
    "d'",
    "del",
    "de la",
    "de las",
    "de los",
    "el",
    "los",
    "las",
    "della",
    "delle",
    "dei",
    "degli",
    "dello",
    "di",
    "da",
    "dal",
    "das",
    "dos",
    "do",
    "san",
    "santa",
    "sant'",
    "et",
    "y",
    "i",
    "e",
    "van",
    "der",
    "den",
    "het",
    "op",
    "am",
    "an",
    "auf",
    "zum",
    "zur",
    "im",
    "of",
    "the",
)

US_STATES: frozenset[str] = word_set(
    """
    AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE
    NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP
    AA AE AP
    """
)
US_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    "Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|"
    "Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|"
    "New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|"
    "Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|"
    "Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming"
)
CA_PROVINCES = "AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT"

# Cues that introduce a city on their own ("lives in X").
CITY_CUES = (
    r"lives|live|living|lived|resides|reside|residing|resident|moved|moving|relocated|"
    r"relocating|relocation|born|grew\s+up|raised|hometown|situated|studied|studying"
)
CITY_LABELS = (
    r"city|town|ort|wohnort|stadt|ville|ciudad|localidad|città|citta|comune|stad|plaats|"
    r"woonplaats|place\s+of\s+birth|birthplace|hometown|municipality|locality"
)
# Words that make a passage a personal address context (for gazetteer cities).
ADDRESS_CONTEXT = (
    r"address|addr|lives|live|living|lived|resides|residing|residence|resident|home|"
    r"ship(?:ping)?\s+to|deliver(?:y|ed)?\s+to|send\s+to|mail(?:ing)?|billing|shipping|"
    r"born|hometown|moved|relocat\w*|domicile|anschrift|adresse|wohnhaft|dirección|"
    r"direccion|domicilio|indirizzo|woonadres|adres|postal|zip|postcode|plz"
)
POSTCODE_LABELS = (
    r"zip(?:[\s_]*code)?|zip\+4|postcode|post[\s_]*code|postal[\s_]*code|plz|postleitzahl|"
    r"code[\s_]+postal|cp|cap|c\.a\.p\.|código[\s_]+postal|codigo[\s_]+postal|postcode"
)
# Labels whose value is a street line ("Address: 12 Baker Street", "street": "Hofweg 5").
STREET_LABELS = (
    r"(?:(?:home|billing|shipping|mailing|postal|street|beneficiary|delivery|residential)"
    r"[ _]?)?(?:address|addr)(?:[ _]?line[ _]?1)?|street|anschrift|adresse|straße|strasse|"
    r"dirección|direccion|domicilio|indirizzo|woonadres|adres"
)
# Capitalised words that never start a city after a postcode or cue.
CITY_REJECT: frozenset[str] = word_set(
    """
    the a an and or of in on at to for by with from is are was were be this that these
    those it its my your our their his her error errors warning info debug id ids user
    users order orders item items request requests records record rows row bytes ms sec
    seconds minutes hours days total tickets ticket port pid code status version build
    step steps files file lines line tests test page pages times jobs job tasks task
    points
    """
)

# Words that make a following number an identifier, not a postcode ("ticket 12345 Berlin").
NUMBER_WORDS: frozenset[str] = word_set(
    """
    ticket order id invoice build port pid error code request case job run pr issue
    version step item account ref reference no nr number count total bug task line row
    page batch build commit tx txn transaction session user customer sku part model
    serial release
    """
)


def _alternation(words: tuple[str, ...] | frozenset[str]) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


def _trie(words: Iterable[str], *, backwards: bool = False) -> str:
    """A regex matching exactly `words`, as a trie (`st(?:reet|...)?`): the regex module
    tries a plain alternation word by word, slow at every position of a text. With
    `backwards`, grouped by word end (for a lookbehind, matched right to left)."""

    def emit(group: set[str]) -> str:  # the words, read from the end if backwards
        branches = []
        for head in sorted({word[0] for word in group if word}):
            rest = emit({word[1:] for word in group if word and word[0] == head})
            branches.append(rest + re.escape(head) if backwards else re.escape(head) + rest)
        if not branches:
            return ""
        if "" in group:
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit({word[::-1] if backwards else word for word in words})


_FAST_WORDS: set[str] = set()  # the words of the `re` anchors (see _lowered)


def _lower_trie(words: Iterable[str]) -> str:
    """_trie() for a `re` pattern run on _lowered() text (the words in lower case)."""
    words = tuple(words)
    if any(word != word.lower() for word in words):
        raise ValueError("anchor words must be lower case")
    _FAST_WORDS.update(words)
    return _trie(words)


_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
# For a `re` anchor: any character the regex module's \d may match (any script's digits).
_ANY_DIGIT = r"[0-9\x80-\U0010ffff]"


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of `text` narrowed so that it cuts no word at either end: a window
    cut mid-word would make a partial word look like a whole one ("Hauptstra")."""
    while start < end and start > 0 and _word_char(text[start - 1]) and _word_char(text[start]):
        start += 1
    while start < end < len(text) and _word_char(text[end - 1]) and _word_char(text[end]):
        end -= 1
    return start, end


def _lowered(text: str) -> str | None:
    """`text` lower-cased for the `re` anchors (re scans faster than the regex module),
    or None where that could miss a match. Offsets must stay, and every character the
    regex module matches case-insensitively with a character of the anchor words must
    lower-case to that character: not so for a long s or dotted capital I, and the regex
    module is asked, as its Unicode data may be newer than Python's. A character that
    lower-cases into ASCII (Kelvin sign) must be a case of that letter, so that each of
    [a-z0-9_] in the copy is a letter, digit or `_` in the text (word boundaries hold)."""
    lowered = text.lower()
    if text.isascii():
        return lowered
    if len(lowered) != len(text):
        return None
    for char in set(_ASCII_RUNS.sub("", text)):
        low = char.lower()
        if low.isascii() and not regex.fullmatch(f"(?i){re.escape(low)}", char):
            return None
        if _FAST_CASES.fullmatch(char) and any(
            letter != low and pattern.fullmatch(char) for letter, pattern in _FAST_LETTERS
        ):
            return None
    return lowered


def _lines_with(
    anchor: regex.Pattern[str] | re.Pattern[str], text: str
) -> Iterator[tuple[int, int]]:
    """The stretches of whole lines of `text` (adjacent lines merged) that hold a match of
    `anchor`, which never spans a line break."""
    size = len(text)
    position = 0
    pending: tuple[int, int] | None = None
    while position < size:
        hit = anchor.search(text, position)
        if hit is None:
            break
        start = text.rfind("\n", 0, hit.start()) + 1
        end = text.find("\n", hit.end())
        if end < 0:
            end = size
        if pending is not None and start > pending[1] + 1:
            yield pending
            pending = None
        pending = (start if pending is None else pending[0], end)
        position = end + 1
    if pending is not None:
        yield pending


def _finditer(
    pattern: regex.Pattern[str],
    anchor: regex.Pattern[str] | None,
    text: str,
    *,
    overlapped: bool = False,
    fast: re.Pattern[str] | None = None,
    lowered: str | None = None,
) -> Iterator[regex.Match[str]]:
    """`pattern.finditer(text)` for a pattern that never matches (nor looks ahead) across
    a line break, and in every match of which `anchor` matches: run on the lines where
    `anchor` does. A window ending at a line break or the text end changes no match (the
    lookarounds see the same characters); lookbehinds see before its start.

    `fast`, a `re` pattern for _lowered() text that matches wherever `anchor` does, is
    used instead when `lowered` is given; without `anchor`, or either, on the whole text.
    """
    if fast is not None and lowered is not None:
        windows = _lines_with(fast, lowered)
    elif anchor is not None:
        windows = _lines_with(anchor, text)
    else:
        windows = iter([(0, len(text))])
    for start, end in windows:
        yield from pattern.finditer(text, start, end, overlapped=overlapped)


_CAP = r"\p{Lu}[\p{L}\p{M}'\u2019.\-]*"  # capitalised word (hyphen/apostrophe/dot allowed)
_ANYW = r"\p{L}[\p{L}\p{M}'\u2019.\-]*"  # any-case word
_SWORD = (
    r"(?:St\.|\p{L}[\p{L}\p{M}'\u2019\-]*)"  # street-name word (no dot: a sentence end stops it)
)
_NUM_EN = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?"
_UNIT = (
    rf"(?:{UNIT_WORDS})\.?[ \t]*(?:no\.?[ \t]*)?\#?[ \t]*"
    # the unit id has a digit or is one or two letters ("Apt B"): "North" is not "No rth"
    r"(?:[A-Za-z]{0,2}\d[A-Za-z0-9]{0,5}|[A-Za-z]{1,2}(?![A-Za-z]))(?:[-/][A-Za-z0-9]{1,4})?"
)
_JOIN = _alternation(NAME_JOINERS)
_B = r"(?<![\p{L}\p{N}_])"  # word start
_E = r"(?![\p{L}\p{N}_])"  # word end

_EN_ALL_TYPES = tuple(dict.fromkeys(EN_STREET_TYPES + tuple(sorted(EN_MORE_TYPES))))
_EN_MORE = EN_MORE_TYPES - frozenset(EN_STREET_TYPES)
_EN_STREET = regex.compile(
    rf"""{_B}
    (?:(?P<pre>(?:{_UNIT})[ \t]*,?[ \t]+)?
       (?<![\d.,:/\-]) (?P<num>{_NUM_EN}) ,?[ \t]+
     | (?P<flat>(?:flat|studio|apartment|apt|unit)\.?[ \t]*\d{{1,4}}[A-Za-z]?)[ \t]+(?=\p{{Lu}}))
    (?P<name>(?:(?:{EN_DIRECTIONS}\.?|\d{{1,3}}(?:st|nd|rd|th)|{_SWORD})[ \t]+){{0,3}}
        (?:\d{{1,3}}(?:st|nd|rd|th)|{_SWORD}))[ \t]+
    (?P<type>{_alternation(_EN_ALL_TYPES)})\.?{_E}
    (?P<dir>[ \t]+{EN_DIRECTIONS}\.?{_E})?
    (?P<unit>[ \t]*,?[ \t]*(?:{_UNIT}){_E}\.?)?
    """,
    regex.IGNORECASE | regex.VERBOSE,
)
_DE_NL_STREET = regex.compile(
    rf"""{_B}
    (?P<name>(?:(?:{_CAP}|{_JOIN})[ \t]+){{0,3}}
      (?:[\p{{L}}\-]{{2,}}(?i:{_alternation(DE_NL_SUFFIXES)})|
         (?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Damm|Ufer|Ring|Markt|Straat|Laan|
            Gracht|Plein|Kade|Singel|Dijk|Steeg|Chaussee)))
    [ \t]+(?P<num>\d{{1,4}}[ \t]?[a-zA-Z]?(?:[ \t]?[-/][ \t]?\d{{1,4}}[a-zA-Z]?)?){_E}
    (?P<unit>[ \t]*,?[ \t]*(?:{_UNIT}){_E})?
    """,
    regex.VERBOSE,
)
_FR_STREET = regex.compile(
    rf"""{_B}
    (?<![\d.,:/\-]) (?P<num>\d{{1,4}}(?:[ \t]?(?:bis|ter|quater|[A-Da-d]))?) ,?[ \t]+
    (?P<type>{_alternation(FR_TYPES)}){_E}[ \t]+
    (?P<name>(?:(?:{_JOIN})[ \t]*|{_ANYW}[ \t]+){{0,5}}{_ANYW}){_E}
    """,
    regex.IGNORECASE | regex.VERBOSE,
)
# French line without a number ("rue de Dumas, 39327 Saint Xavier"): only when a postcode +
# city follows (the labelled-value rule handles "Address: rue Philippe").
_FR_TYPES_BARE = "rue|avenue|boulevard|bd|chemin|allée|allee|impasse|quai|place|route|cours|square"
_FR_BARE_STREET = regex.compile(
    rf"""(?<![\p{{L}}\p{{N}}_])
    (?P<type>(?i:{_FR_TYPES_BARE}))[ \t]+
    (?:(?i:de[ \t]+la|de[ \t]+l'|des|du|de|d'|l')[ \t]*)?
    {_CAP}(?:[ \t]+{_CAP}){{0,3}}
    (?=[ \t]*,[ \t]*\d{{5}}[ \t]+\p{{Lu}})""",
    regex.VERBOSE,
)
_ES_IT_STREET = regex.compile(
    rf"""{_B}
    (?P<type>{_alternation(ES_IT_TYPES)})[ \t]*(?<=[ \t/.º])
    (?P<name>(?:(?:{_JOIN})[ \t]+|{_CAP}[ \t]+){{0,5}}{_CAP})
    ,?[ \t]*(?:n[º°o]\.?[ \t]*)?(?P<num>\d{{1,4}}[A-Za-z]?(?:/[A-Za-z0-9]{{1,4}})?){_E}
    (?P<unit>,?[ \t]*(?:\d{{1,2}}[ \t]?[º°ª][ \t]?[A-Za-z0-9]?|piso[ \t]+\d+|puerta[ \t]+\w+|
       bajo|izq(?:da|uierda)?\.?|dcha\.?|int(?:erno)?\.?[ \t]*\d+|scala[ \t]+\w+|
       piano[ \t]+\d+|appartamento[ \t]+\d+|apt\.?[ \t]*\d+)){{0,3}}
    """,
    regex.IGNORECASE | regex.VERBOSE,
)

# Types that are also ordinary words: only capitalised ("Via Roma 12", "Canale Gemma, 7").
_ES_IT_CAPPED = word_set(
    """
    via largo corso strada borgo c. rotonda stretto canale incrocio traversa vial cuesta
    acceso bajada senda alameda estrada ladeira
    """
)

# Anchors: what every match of a street pattern above holds, cheap to look for; the
# pattern runs only on the lines holding one (see _finditer). The type word after a
# space ("12 Baker Street"), the suffix before a house number ("Hauptstraße 5"), the
# house number before a French type ("5 bis, avenue"), the postcode after a French bare
# street, the type before a Spanish or Italian street name (a space or its last `/.º`).
# The `re` versions (faster than the regex module's) look for type words in lower-cased
# text; a character there that is not [a-z0-9_] is no letter, digit or `_` in the text.
_EN_ANCHOR = regex.compile(rf"[ \t]{_trie(_EN_ALL_TYPES)}\.?{_E}", regex.IGNORECASE)
_EN_FAST = re.compile(rf"[ \t]{_lower_trie(_EN_ALL_TYPES)}\.?(?![a-z0-9_])")
_DE_NL_ANCHOR = regex.compile(rf"[ \t]+\d(?<=(?i:{_trie(DE_NL_SUFFIXES, backwards=True)})[ \t]+\d)")
_DE_NL_FAST = re.compile(rf"{_lower_trie(DE_NL_SUFFIXES)}[ \t]+{_ANY_DIGIT}")
_FR_ANCHOR = regex.compile(
    rf"\d(?=(?:[ \t]?(?:bis|ter|quater|[A-Da-d]))?,?[ \t]+{_trie(FR_TYPES)}{_E}[ \t])",
    regex.IGNORECASE,
)
_FR_FAST = re.compile(rf"[ \t]{_lower_trie(FR_TYPES)}(?![a-z0-9_])[ \t]")
_FR_BARE_ANCHOR = regex.compile(r",[ \t]*\d{5}[ \t]+\p{Lu}")
_ES_IT_ANCHOR = regex.compile(
    rf"[ \t/.º](?<={_trie(ES_IT_TYPES, backwards=True)}[ \t]*)", regex.IGNORECASE
)
_ES_IT_FAST = re.compile(rf"(?<![a-z0-9_]){_lower_trie(ES_IT_TYPES)}[ \t]*(?<=[ \t/.º])")
# The words ADDRESS_CONTEXT, CITY_CUES and the cues before a gazetteer city start with,
# and what makes a context or cue span a line break ("ship\nto", "grew\nup": these
# patterns then run on the whole text).
_CONTEXT_FAST = re.compile(
    r"(?<![a-z0-9_])"
    + _lower_trie(
        word_set(
            """address addr lives live living lived resides residing residence resident home
        ship deliver send mail billing shipping born hometown moved relocat domicile
        anschrift adresse wohnhaft dirección direccion domicilio indirizzo woonadres adres
        postal zip postcode plz"""
        )
    )
)
_CONTEXT_ACROSS = re.compile(rf"{_lower_trie(('ship', 'deliver', 'send'))}[a-z]*[^a-z0-9\n]*\n")
_CITY_CUE_FAST = re.compile(
    r"(?<![a-z0-9_])"
    + _lower_trie(
        word_set(
            """lives live living lived resides reside residing resident moved moving relocated
        relocating relocation born grew raised hometown situated studied studying"""
        )
    )
)
_CITY_CUE_ACROSS = re.compile(rf"{_lower_trie(('grew',))}[^a-z0-9\n]*\n")
_FROM_CUE_FAST = re.compile(
    rf"(?<![a-z0-9_]){_lower_trie(('from', 'based', 'located', 'native', 'visiting', 'near'))}"
    r"[ \t]"
)
_LABEL_VALUE_OK = regex.compile(r"[\p{L}\p{M}\p{N} .'\u2019\-/º°ª#]+")
_LABEL_TYPE_FIRST = regex.compile(
    rf"(?i:{_alternation(FR_TYPES + ES_IT_TYPES)})[ \t]+(?:(?:{_JOIN})[ \t]+)?\p{{Lu}}"
)

_PLACE_OF_BIRTH = regex.compile(r"place\s+of\s+birth", regex.IGNORECASE)
_PLACE_OF_BIRTH_ACROSS = re.compile(
    rf"{_lower_trie(('place',))}[^a-z0-9\n]*(?:{_lower_trie(('of',))}[^a-z0-9\n]*)?\n"
)
# The `:` or `=` after a street or city label (its last word).
_STREET_LABEL_FAST = re.compile(
    _lower_trie(
        word_set(
            """address addr 1 street anschrift adresse straße strasse dirección direccion
            domicilio indirizzo woonadres adres"""
        )
    )
    + r"[\"']?[ \t]*[:=]"
)
_CITY_LABEL_FAST = re.compile(
    _lower_trie(
        word_set(
            """city town ort wohnort stadt ville ciudad localidad città citta comune stad
            plaats woonplaats birth birthplace hometown municipality locality"""
        )
    )
    + r"[\"']?[ \t]*[:=]"
)

# Characters of the anchor words, each with what the regex module matches with it (see
# _lowered; after the last _lower_trie()).
_FAST_LETTERS = [
    (char, regex.compile(f"(?i){re.escape(char)}"))
    for char in sorted({char for word in _FAST_WORDS for char in word})
]
_FAST_CASES = regex.compile("(?i)[" + "".join(re.escape(char) for char, _ in _FAST_LETTERS) + "]")

_TABLE_RULE = regex.compile(r"[ \t|:+\-=]*")
_TABLE_CITY = regex.compile(
    r"(?:['\u2019]s-)?\p{Lu}[\p{L}\p{M}'\u2019\-]*(?:[ \t]+[\p{L}\p{M}'\u2019\-]+){0,3}"
)

_UK_POSTCODE = (
    r"(?:GIR[ \t]?0AA|(?:[A-PR-UWYZ]"
    r"(?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y]))"
    r"[ \t]?\d[ABD-HJLNP-UW-Z]{2})"
)
_CA_POSTCODE = r"(?:[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \t]?\d[ABCEGHJ-NPRSTV-Z]\d)"
_NL_POSTCODE = r"(?:[1-9]\d{3}[ \t]?(?!SA|SD|SS)[A-Z]{2})"
_US_ZIP = r"(?:\d{5}(?:-\d{4})?)"
# hyphenated codes, only before a city: "00-950 Warszawa", "01310-100 São Paulo", "1000-001 Lisboa"
_PL_POSTCODE = r"(?:\d{2}-\d{3})"
_BR_POSTCODE = r"(?:\d{5}-\d{3})"
_PT_POSTCODE = r"(?:\d{4}-\d{3})"
_EU5 = r"(?:\d{5})"

# City words: no dots except abbreviations ("St. Louis"), so a sentence end stops the city.
_CITY_CAP = r"(?:(?:St|Ste|Mt|Ft)\.|(?:['\u2019]s-)?\p{Lu}[\p{L}\p{M}'\u2019\-]*)"
_CITY_SEQ = (
    rf"(?:(?<![\p{{L}}\p{{N}}_]){_CITY_CAP}(?:[ \t]+(?:{_JOIN}|{_CITY_CAP})){{0,3}}"
    rf"(?![\p{{L}}\p{{M}}]))"
)
_CITY_SEQ_ANY = rf"(?:(?<![\p{{L}}\p{{N}}_]){_ANYW}(?:[ \t]+{_ANYW}){{0,3}})"


@dataclass(frozen=True, slots=True)
class AddressOptions:
    streets: bool = True
    postcodes: frozenset[str] = frozenset(
        {"US", "GB", "DE", "FR", "NL", "ES", "IT", "CA", "PL", "BR", "PT"}
    )
    cities: bool = True
    score: float = 0.85


def _postcode_pattern(countries: frozenset[str]) -> str:
    parts = []
    if "GB" in countries:
        parts.append(_UK_POSTCODE)
    if "CA" in countries:
        parts.append(_CA_POSTCODE)
    if "NL" in countries:
        parts.append(_NL_POSTCODE)
    if "US" in countries:
        parts.append(_US_ZIP)
    elif countries & {"DE", "FR", "ES", "IT"}:
        parts.append(_EU5)
    return "|".join(parts) if parts else r"(?!)"


class AddressRecognizer:
    """Finds street lines, postcodes and cities (see the module docstring)."""

    def __init__(self, options: AddressOptions | None = None) -> None:
        self.options = options or AddressOptions()
        countries = self.options.postcodes
        self._cities = gazetteers.cities()
        self._all_cities = gazetteers.ambiguous_cities()
        self._english = gazetteers.english_words()
        pc = _postcode_pattern(countries)
        self._pc_label = regex.compile(
            rf"{_B}(?:{POSTCODE_LABELS})[\"']?[ \t]*[:#.=]?[ \t]*[\"']?[ \t]*(?P<pc>{pc}){_E}",
            regex.IGNORECASE,
        )
        eu = "|".join(
            x
            for x, on in (
                (_EU5, bool(countries & {"DE", "FR", "ES", "IT", "US"})),
                (_NL_POSTCODE, "NL" in countries),
                (_BR_POSTCODE, "BR" in countries),
                (_PT_POSTCODE, "PT" in countries),
                (_PL_POSTCODE, "PL" in countries),
            )
            if on
        )
        # "10115 Berlin", "1015 CJ Amsterdam": postcode then city.
        self._pc_city = (
            regex.compile(
                rf"(?<![\p{{L}}\p{{N}}_.,:/\-#])(?P<pc>{eu})[ \t]+(?P<city>{_CITY_SEQ}){_E}"
            )
            if eu
            else None
        )
        uk_ca = "|".join(
            x
            for x, on in ((_UK_POSTCODE, "GB" in countries), (_CA_POSTCODE, "CA" in countries))
            if on
        )
        self._uk_ca = regex.compile(rf"{_B}(?P<pc>{uk_ca}){_E}") if uk_ca else None
        self._us = (
            regex.compile(
                rf"""(?:(?P<city>{_CITY_SEQ}),?[ \t]+)?
                (?P<state>\p{{Lu}}\p{{Lu}}|{US_STATE_NAMES})\.?,?[ \t]+(?P<pc>{_US_ZIP}){_E}""",
                regex.VERBOSE,
            )
            if "US" in countries
            else None
        )
        self._ca_prov = regex.compile(
            rf"(?:(?P<city>{_CITY_SEQ}),?[ \t]+)?(?:{CA_PROVINCES}),?[ \t]+"
            rf"(?P<pc>{_CA_POSTCODE}){_E}"
        )
        self._city_cue = regex.compile(
            rf"{_B}(?:{CITY_CUES})[ \t]+(?:in|to|at|of|from|near)[ \t]+"
            r"(?:the[ \t]+city[ \t]+of[ \t]+)?(?=\p{L})",
            regex.IGNORECASE,
        )
        self._from_cue = regex.compile(
            rf"{_B}(?:from|based[ \t]+in|based[ \t]+out[ \t]+of|located[ \t]+in|native[ \t]+of|"
            rf"visiting|near)[ \t]+(?=\p{{L}})",
            regex.IGNORECASE,
        )
        self._city_label = regex.compile(
            rf"{_B}(?:{CITY_LABELS})[\"']?[ \t]*[:=][ \t]*[\"']?[ \t]*"
            rf"(?P<city>{_CITY_SEQ_ANY}){_E}",
            regex.IGNORECASE,
        )
        self._context = regex.compile(rf"{_B}(?:{ADDRESS_CONTEXT}){_E}", regex.IGNORECASE)
        self._after_street = regex.compile(
            rf"\G[ \t]*,[ \t]*(?P<city>{_CITY_SEQ})"
            r"(?=[ \t]*(?:,|$|\n|[ \t]+\d|[ \t]+[A-Z]{1,2}\d))",
            regex.MULTILINE,
        )
        self._pc_after_street = regex.compile(rf"\G[ \t]*,[ \t]*(?P<pc>{pc}){_E}")
        self._city_header = regex.compile(rf"(?:{CITY_LABELS})", regex.IGNORECASE)
        self._street_label = regex.compile(
            rf"{_B}(?:{STREET_LABELS})[\"']?[ \t]*[:=][ \t]*[\"']?[ \t]*"
            r"(?P<val>[^,\"'\n;|:]{3,60})",
            regex.IGNORECASE,
        )
        self._street_after = regex.compile(r"\G[ \t]*[,\n][ \t]*(?:\p{Lu}|\d{3})")
        self._street_before = regex.compile(
            rf"(?:{_B}(?:{ADDRESS_CONTEXT}|street|at){_E}|^)[\"']?[ \t]*[:=]?[ \t]*[\"']?[ \t]*\Z",
            regex.IGNORECASE | regex.MULTILINE,
        )
        self._word = regex.compile(r"(?<![\p{L}\p{M}\p{N}_])\p{L}[\p{L}\p{M}'\u2019\-]*")
        # Anchors (see _finditer): the space between a postcode and its city, the end of
        # a UK or Canadian postcode, a ZIP code after a state, a Canadian postcode after
        # a province, the `:` or `=` after a label.
        self._pc_city_anchor = (
            regex.compile(rf"[ \t]+(?={_CITY_CAP})(?<=(?:{eu})[ \t]+)") if eu else None
        )
        self._uk_ca_anchor = regex.compile(rf"\d[A-Z][A-Z0-9]{_E}")
        self._us_anchor = regex.compile(r"[ \t]\d{5}(?<=\p{L}\.?,?[ \t]+\d{5})")
        self._ca_prov_anchor = regex.compile(rf"[ \t][A-Z]\d(?<=(?:{CA_PROVINCES}),?[ \t]+[A-Z]\d)")
        self._city_label_anchor = regex.compile(
            rf"[:=](?<=(?:{CITY_LABELS})[\"']?[ \t]*[:=])", regex.IGNORECASE
        )
        self._street_label_anchor = regex.compile(
            rf"[:=](?<=(?:{STREET_LABELS})[\"']?[ \t]*[:=])", regex.IGNORECASE
        )

    # -- helpers -------------------------------------------------------------------------------

    def _f(self, start: int, end: int) -> Finding:
        return Finding(ENTITY, start, end, self.options.score)

    def _city_ok(self, city: str, *, loose: bool) -> bool:
        words = city.split()
        if not words or len(city) < 3:
            return False
        if words[0].lower() in CITY_REJECT and not (
            # "Port Talbot", "Port Elizabeth": a town when a capitalised name follows
            words[0] == "Port" and len(words) > 1 and words[1][0].isupper()
        ):
            return False
        if city.islower() and self._lookup_city(city) is None:
            return False  # lower case ("city: str") only for a gazetteer city
        if loose:
            return True
        return self._lookup_city(city) is not None

    def _lookup_city(self, text: str) -> int | None:
        """Length (in characters) of the longest gazetteer city at the start of `text`."""
        words = list(self._word.finditer(text[:80]))
        best = None
        for n in range(min(4, len(words)), 0, -1):
            end = words[n - 1].end()
            key = " ".join(text[:end].replace("\u2019", "'").split()).lower()
            if key in self._cities:
                best = end
                break
        return best

    # -- rules ---------------------------------------------------------------------------------

    def find(self, text: str) -> list[Finding]:
        if not text:
            return []
        found: list[Finding] = []
        streets: list[tuple[int, int]] = []
        folded = _lowered(text)
        if self.options.streets:
            streets = self._streets(text, folded)
            found.extend(self._f(s, e) for s, e in streets)
        if self.options.postcodes:
            found.extend(self._postcodes(text, streets))
        if self.options.cities:
            found.extend(self._cities_found(text, streets, folded))
        return merge_findings(found)

    def _streets(self, text: str, folded: str | None) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for m in _finditer(
            _EN_STREET, _EN_ANCHOR, text, overlapped=True, fast=_EN_FAST, lowered=folded
        ):
            name = m.group("name")
            typ = m.group("type").lower()
            words = name.split()
            lowered = [w.lower() for w in words]
            if any(w in gazetteers.STOP_WORDS and w not in ("of", "the") for w in lowered):
                continue
            if lowered[0] in ("of", "the"):
                continue
            cased = all(w[0].isupper() or w[0].isdigit() for w in words)
            line_caps = m.group().isupper()
            # lower case: only strong types ("221b baker street"), short names
            if (
                not cased
                and not line_caps
                and (typ in EN_WEAK_TYPES or len(typ) <= 3 or len(words) > 2)
            ):
                continue
            if typ in ("st", "dr", "pl", "ct", "ave", "rd", "ln") and not (cased or line_caps):
                continue
            if not m.group("type")[0].isupper() and cased and typ in EN_WEAK_TYPES:
                continue
            if m.group("flat") is not None and not (cased or line_caps):
                continue
            if typ in _EN_MORE and not (
                (cased or line_caps) and (m.group("type")[0].isupper()) and self._confirmed(text, m)
            ):
                continue
            out.append((m.start(), m.end()))
        for m in _finditer(_DE_NL_STREET, _DE_NL_ANCHOR, text, fast=_DE_NL_FAST, lowered=folded):
            name = m.group("name")
            first = name.split()[0]
            last = name.split()[-1]
            low = last.lower()
            # the compound must not be an English word ("String 5", "Swing 2")
            if low in self._english or gazetteers.is_english_word(low):
                continue
            if not (first[0].isupper() or name.islower()):
                continue
            out.append((m.start(), m.end()))
        for m in _finditer(_FR_STREET, _FR_ANCHOR, text, fast=_FR_FAST, lowered=folded):
            typ = m.group("type").lower()
            words = m.group("name").split()
            if not any(w[0].isupper() for w in words) and typ not in ("rue", "avenue", "boulevard"):
                continue
            # cut the name at the first lower-case word that is not a joiner
            end = m.start("name")
            for w in regex.finditer(r"\S+", m.group("name")):
                token = w.group().lower()
                if (
                    token in NAME_JOINERS
                    or token.endswith(("'", "\u2019"))
                    or w.group()[0].isupper()
                ):
                    end = m.start("name") + w.end()
                    continue
                if not any(x[0].isupper() for x in words) and typ in ("rue", "avenue", "boulevard"):
                    end = m.start("name") + w.end()
                    continue
                break
            if end > m.start("name"):
                out.append((m.start(), end))
        for m in _finditer(_FR_BARE_STREET, _FR_BARE_ANCHOR, text):
            out.append((m.start(), m.end()))
        out.extend(self._labelled_streets(text, folded))
        for m in _finditer(_ES_IT_STREET, _ES_IT_ANCHOR, text, fast=_ES_IT_FAST, lowered=folded):
            typ = m.group("type")
            if typ.lower() in _ES_IT_CAPPED and not typ[0].isupper():
                continue
            if typ.lower() == "al." and text[max(0, m.start() - 3) : m.start()].lower() == "et ":
                continue  # "Smith et al. Nature 12"
            out.append((m.start(), m.end()))
        return [(f.start, f.end) for f in merge_findings(self._f(s, e) for s, e in out)]

    def _table_cities(self, text: str) -> list[Finding]:
        """Cells of a "City"/"Town" column in a Markdown, CSV or TSV table."""
        out: list[Finding] = []
        if "city" not in text.lower() and "town" not in text.lower():
            return out
        col: int | None = None
        sep = ""
        ncells = 0
        pos = 0
        for line in text.splitlines(keepends=True):
            start, pos = pos, pos + len(line)
            body = line.rstrip("\r\n")
            if col is not None:
                cells = body.split(sep)
                if len(cells) != ncells:
                    col = None
                elif not _TABLE_RULE.fullmatch(body):
                    offset = start + sum(len(c) + 1 for c in cells[:col])
                    cell = cells[col]
                    value = cell.strip()
                    if value and _TABLE_CITY.fullmatch(value) and self._city_ok(value, loose=True):
                        vs = offset + cell.index(value)
                        out.append(self._f(vs, vs + len(value)))
                    continue
                else:
                    continue
            for sep_try in ("|", "\t", ";", ","):
                cells = body.split(sep_try)
                if len(cells) < 3:
                    continue
                names = [c.strip().strip("\"'").lower() for c in cells]
                hit = [i for i, n in enumerate(names) if self._city_header.fullmatch(n)]
                if hit:
                    col, sep, ncells = hit[0], sep_try, len(cells)
                    break
        return out

    def _labelled_streets(self, text: str, folded: str | None) -> list[tuple[int, int]]:
        """The value after a street/address label, up to the first comma, quote or line end:
        "Address: 1703 Justin Villages, ...", "street": "Elizadreef 85". It must look like a
        street line: a house number and a capitalised word, or a type word first ("rue
        Philippe"); no e-mail, URL or other punctuation."""
        out: list[tuple[int, int]] = []
        for m in _finditer(
            self._street_label,
            self._street_label_anchor,
            text,
            fast=_STREET_LABEL_FAST,
            lowered=folded,
        ):
            value = m.group("val").rstrip(" .")
            if len(value) < 4 or not _LABEL_VALUE_OK.fullmatch(value):
                continue
            words = value.split()
            if len(words) > 8 or len(words) < 2:
                continue
            numbered = any(
                regex.fullmatch(r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?", w) for w in words
            )
            capped = sum(1 for w in words if w[0].isupper() and len(w) >= 3 and w.isalpha())
            if numbered and capped:
                if not all(
                    w[0].isupper()
                    or w[0].isdigit()
                    or w.lower() in NAME_JOINERS
                    or w.lower() in ("apt.", "apt", "bis", "ter")
                    for w in words
                ):
                    continue
                if all(
                    w.isdigit() or w.lower() in CITY_REJECT or w.lower() in NUMBER_WORDS
                    for w in words
                    if not w[0].isdigit() or w.isdigit()
                ):
                    continue
            elif not _LABEL_TYPE_FIRST.match(value):
                continue
            out.append((m.start("val"), m.start("val") + len(value)))
        return out

    def _confirmed(self, text: str, m: regex.Match[str]) -> bool:
        """A street line ending in an ordinary word ("Light", "Station") needs address
        evidence: a unit part, an address label or "at" before it, or a city / postcode
        after it ("5 Amelia Mill, Sandrabury")."""
        if m.group("unit") or m.group("pre") or m.group("flat"):
            return True
        if self._street_after.match(text, m.end()):
            return True
        return self._street_before.search(text, max(0, m.start() - 40), m.start()) is not None

    def _inside_proper_noun(self, text: str, start: int, end: int) -> bool:
        """A capitalised word right before or after ("Maria Garcia", "Paris Hilton")."""
        lo, _ = _whole_words(text, max(0, start - 40), start)
        _, hi = _whole_words(text, end, min(len(text), end + 40))
        before = regex.search(r"(\p{Lu}[\p{L}\p{M}'\u2019\-]*)[ \t]$", text[lo:start])
        after = regex.match(r"[ \t](\p{Lu}[\p{L}\p{M}]*)", text[end:hi])
        if before is not None and before.group(1).lower() not in CITY_REJECT:
            return True
        return after is not None and after.group(1).lower() not in CITY_REJECT

    def _near_street(self, streets: list[tuple[int, int]], start: int, text: str) -> bool:
        for _s, e in streets:
            if e <= start and start - e <= 60 and text[e:start].count("\n") <= 1:
                return True
        return False

    def _postcodes(self, text: str, streets: list[tuple[int, int]]) -> list[Finding]:
        out: list[Finding] = []
        for m in self._pc_label.finditer(text):
            out.append(self._f(m.start("pc"), m.end("pc")))
        if self._pc_city is not None and self._pc_city_anchor is not None:
            for m in _finditer(self._pc_city, self._pc_city_anchor, text):
                city = m.group("city")
                near = self._near_street(streets, m.start(), text)
                line_start = text.rfind("\n", 0, m.start()) + 1
                lead = text[line_start : m.start()].strip()
                lead_words = regex.findall(r"\p{L}+", lead)
                prev_word = lead_words[-1].lower() if lead_words else ""
                if prev_word in NUMBER_WORDS:
                    continue
                if not self._city_ok(city, loose=near or (lead in ("", ",") or lead.endswith(","))):
                    continue
                if (
                    not near
                    and not self._lookup_city(city)
                    and (
                        city.split()[0].lower() in self._english
                        or gazetteers.is_english_word(city.split()[0].lower())
                    )
                ):
                    continue
                out.append(self._f(m.start("pc"), m.end("pc")))
                if self.options.cities:
                    out.append(self._city_span(text, m.start("city"), m.group("city")))
        if self._us is not None:
            for m in _finditer(self._us, self._us_anchor, text):
                state = m.group("state")
                if len(state) == 2 and state not in US_STATES:
                    continue
                city = m.group("city")
                if city is not None and not self._city_ok(city, loose=True):
                    city = None
                if city is None and not self._near_street(streets, m.start("state"), text):
                    continue
                out.append(self._f(m.start("pc"), m.end("pc")))
                if city is not None and self.options.cities:
                    out.append(self._city_span(text, m.start("city"), city))
        if "CA" in self.options.postcodes:
            for m in _finditer(self._ca_prov, self._ca_prov_anchor, text):
                out.append(self._f(m.start("pc"), m.end("pc")))
                if m.group("city") and self.options.cities:
                    out.append(self._city_span(text, m.start("city"), m.group("city")))
        # a postcode right after a street line, no city: "Levibaan 366, 2352 ZA."
        for _s, e in streets:
            pm = self._pc_after_street.match(text, e)
            if pm is not None:
                out.append(self._f(pm.start("pc"), pm.end("pc")))
        if self._uk_ca is not None:
            for m in _finditer(self._uk_ca, self._uk_ca_anchor, text):
                s, e = m.span("pc")
                compact = " " not in m.group("pc") and "\t" not in m.group("pc")
                if compact and not self._near_street(streets, s, text):
                    continue
                lo, _ = _whole_words(text, max(0, s - 40), s)
                _, hi = _whole_words(text, e, min(len(text), e + 40))
                before, after = text[lo:s], text[e:hi]
                cb = regex.search(rf"(?P<city>{_CITY_SEQ}),?[ \t]+$", before)
                ca = regex.match(rf"[ \t]*,?[ \t]*(?P<city>{_CITY_SEQ}){_E}", after)
                near = self._near_street(streets, s, text)
                if cb is not None and self._city_ok(cb.group("city"), loose=True):
                    out.append(self._f(s, e))
                    if self.options.cities:
                        cs = s - len(before) + cb.start("city")
                        out.append(self._city_span(text, cs, cb.group("city")))
                elif ca is not None and self._city_ok(ca.group("city"), loose=True):
                    out.append(self._f(s, e))
                    if self.options.cities:
                        out.append(self._city_span(text, e + ca.start("city"), ca.group("city")))
                elif near:
                    out.append(self._f(s, e))
        return out

    def _city_span(self, text: str, start: int, city: str) -> Finding:
        # drop trailing joiners ("Frankfurt am" -> no; keep "Frankfurt am Main")
        words = city.split()
        while words and words[-1].lower() in NAME_JOINERS:
            words = words[:-1]
        # a following street-type or postcode-like word is not part of the city
        end = start + len(city.rstrip())
        if words:
            end = start + city.find(words[-1]) + len(words[-1]) if len(words) > 0 else end
            last = city.rfind(words[-1])
            end = start + last + len(words[-1])
        return self._f(start, end)

    def _cities_found(
        self, text: str, streets: list[tuple[int, int]], folded: str | None
    ) -> list[Finding]:
        out: list[Finding] = []
        # (a) the segment after a street line: "12 Baker Street, Leeds"
        for _s, e in streets:
            m = self._after_street.match(text, e)
            if m is not None and self._city_ok(m.group("city"), loose=True):
                city = m.group("city")
                words = city.split()
                if words[0].lower() in EN_STREET_TYPES and not (
                    words[0] == "Port" and len(words) > 1
                ):
                    continue
                out.append(self._city_span(text, m.start("city"), city))
        # (b) cue + capitalised sequence ("lives in Springfield"), labels ("City: Leeds")
        if folded is not None and _CITY_CUE_ACROSS.search(folded) is not None:
            cue_lowered = None  # "grew\nup in": on the whole text
        else:
            cue_lowered = folded
        for m in _finditer(self._city_cue, None, text, fast=_CITY_CUE_FAST, lowered=cue_lowered):
            rest = text[m.end() : m.end() + 80]
            g = self._lookup_city(rest)
            if g is not None:
                out.append(self._f(m.end(), m.end() + g))
                continue
            cm = regex.match(rf"{_CITY_SEQ}{_E}", rest)
            if cm is None or not self._city_ok(cm.group(), loose=True):
                continue
            first = cm.group().split()[0].lower()
            # "studied in Physics": after a weak cue, an unknown place must not be a word
            if m.group().lower().startswith("stud") and (
                first in self._english or gazetteers.is_english_word(first)
            ):
                continue
            out.append(self._city_span(text, m.end(), cm.group()))
        # "place of birth" is the one label that may span a line break (see _finditer).
        if folded is not None:
            across = _PLACE_OF_BIRTH_ACROSS.search(folded) is not None
        else:
            across = any("\n" in m.group() for m in _PLACE_OF_BIRTH.finditer(text))
        labels = (
            self._city_label.finditer(text)
            if across
            else _finditer(
                self._city_label,
                self._city_label_anchor,
                text,
                fast=_CITY_LABEL_FAST,
                lowered=folded,
            )
        )
        for m in labels:
            city = m.group("city")
            if city.split()[0].lower() in ("n/a", "na", "none", "null", "unknown", "tbd", "-"):
                continue
            if not self._city_ok(city, loose=True):
                continue
            out.append(self._city_span(text, m.start("city"), city))
        out.extend(self._table_cities(text))
        for m in _finditer(self._from_cue, None, text, fast=_FROM_CUE_FAST, lowered=folded):
            g = self._lookup_city(text[m.end() : m.end() + 80])
            if g is not None and text[m.end()].isupper():
                out.append(self._f(m.end(), m.end() + g))
        # (c) gazetteer cities inside a personal-address context
        if folded is not None and _CONTEXT_ACROSS.search(folded) is not None:
            folded = None  # "ship\nto": on the whole text
        for m in _finditer(self._context, None, text, fast=_CONTEXT_FAST, lowered=folded):
            window_end = min(len(text), m.end() + 120)
            para = text.find("\n\n", m.end())
            if para != -1:
                window_end = min(window_end, para)
            for w in self._word.finditer(text, m.end(), window_end):
                if not w.group()[0].isupper():
                    continue
                g = self._lookup_city(text[w.start() : w.start() + 80])
                if g is None or self._inside_proper_noun(text, w.start(), w.start() + g):
                    continue
                out.append(self._f(w.start(), w.start() + g))
        return out
