"""Rule-based person-name detection: a precise extra layer next to spaCy's NER.

`NameRecognizer.find(text)` returns `Finding("PERSON", start, end, score)` spans (offsets into
`text`, end exclusive), never strings. Spans cover the name only: never the cue or the title
("Dear Anna" -> "Anna", "Dr. Jane Doe" -> "Jane Doe"), never start or end inside a word, and
never cross a line break. Overlapping findings are merged (the longest wins).

Rules (each switchable through `NameOptions`):

- context: a cue before the name. Strong cues ("Dear", "my name is", "Name:", "Patient:",
  sign-off line "Regards,\\n", e-mail display names) accept any capitalised token that is a
  known given name or surname, or is not an ordinary English word. Weak cues ("Hi", "Hello",
  "I'm", "this is", "From:", speaker labels "Anna:", "assigned to", "reported by",
  "spoke with", "call X back") need a known given name (common-word names such as "Will"
  excluded) as the first token.
- lists: a known given name followed by a surname-like token (known surname, unknown word,
  or a very common surname that is also an English word, e.g. "Green"), with middle names,
  initials and surname particles ("van der", "de la", "bin", "al-").
- titles: "Mr/Mrs/Ms/Mx/Dr/Prof/Sir/Dame/Herr/Frau/M./Mme/Mlle/Sr./Sra./Srta." + name.
- any_case: lower-case or ALL-CAPS names count only as a known given name + known surname
  pair, or after a cue (then the first token must be a known given name or, after a title,
  a known surname).

Precision guards: given names exclude common English words (gazetteers.COMMON_WORDS and
spaCy's stop words); a surname slot rejects UI/code words (`UI_WORDS`) and ordinary English
words; tokens that look like code (next to `_ . @ / \\ $ # =`, CamelCase such as "GitHub",
inside backticks or fenced code blocks) are never names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex

from sidecar import gazetteers
from sidecar.finding import Finding
from sidecar.gazetteers import word_set

__all__ = ["UI_WORDS", "NameOptions", "NameRecognizer", "merge_findings"]

ENTITY = "PERSON"

# Capitalised words that follow names in UI text, code and logs and are never a surname or
# a name after a cue ("Dear Customer", "Grant Access", "Anna Team"). Extend freely.
UI_WORDS: frozenset[str] = word_set(
    """
    access account accounts action actions admin administrator agent agents alert all
    api app application approval approved assistant author authors backend bank bar
    billing bot branch bug build button cache card cart change changelog channel chat
    checkout client cluster code colleague colleagues commit committee company config
    console contact content corp corporation council customer customers dashboard data
    database dear default department deploy desk dev developer device direct director
    docs document driver editor email engine engineer engineering everyone everybody
    error event events feature field file filter finance folks form foundation friend
    friends frontend function gateway group guest guys hello help helpdesk hi hiring
    home hr http https inc index info input issue job key lab label labs legal library
    limited line link list llc ltd madam mail manager member members menu message module
    name network new news node none note notes null ok operations ops option order owner
    package page panel partner partners patch payment payments plan platform plugin
    policy portal post premium product profile project pull queue re reader ready
    recipient release report reports repository request requests review reviewer road
    avenue main root hope sales script security server service services settings setup
    sir site staff store street studio support system table tag task team teams team's
    tech test tests there ticket token tool tools update upload user users valued vendor
    version view visitor welcome wiki world worker workflow your yours
    elif def del len str int dict var let const func nil self args kwargs lambda async
    await void bool enum struct impl trait pub mut fn sub ids later meta
    calle via viale piazza corso rue avenida plaza paseo straße strasse
    """
)

# Particles inside a surname ("Pádraig van der Berg", "María de la Cruz", "Omar bin Laden").
_PARTICLES: frozenset[str] = word_set(
    """
    van der den de del della dei la le les du des von zu da di dos das do bin bint ibn
    abu al el ter ten y e st ó ní nic ua ap
    """
)

_WORD = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_])\p{L}[\p{L}\p{M}]*(?:['\u2019\-]\p{L}[\p{L}\p{M}]*)*(?![\p{L}\p{M}\p{N}_])"
)
# Title-case (each hyphen part): "Anna", "O'Connor", "McDonald", "Jean-Luc", "DeShawn".
_TITLE_PART = regex.compile(
    r"(?:Mc|Mac|O['\u2019]|D['\u2019]|De|Di|Da|Du|La|Le|Van|Von|Fitz|Al-|El-)?\p{Lu}[\p{Ll}\p{M}'\u2019]*"
)
_CODE_BEFORE = frozenset("_@#$/\\=`~<{[|^")
_CODE_AFTER = frozenset("_@/\\=`({[|^")
_CODE_REGION = regex.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", regex.DOTALL)

_TITLES = (
    r"Mr|Mrs|Ms|Miss|Mx|Mister|Dr|Doctor|Prof|Professor|Sir|Dame|Lady|Lord|Herr|Frau|Mme|"
    r"Madame|Mlle|Mademoiselle|Monsieur|Sr|Sra|Srta|Señor|Señora|Sig|Sig\.ra|Signor|Signora|"
    r"Dott|Dhr|Mevr|Rev|Fr"
)
_TITLE_WORDS = frozenset(w.lower() for w in regex.sub(r"\\.", ".", _TITLES).split("|")) | {"m"}
_TITLE_CUE = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}_.])(?:(?:{_TITLES})\.?|M\.)[ \t]+(?=\p{{L}})", regex.IGNORECASE
)
_GREETING_STRONG = regex.compile(
    r"(?<![\p{L}\p{N}_])(?:dear|my\s+dear|dearest|liebe[rs]?|sehr\s+geehrte[rs]?|"
    r"chère|cher|querid[oa]|estimad[oa]|gentile|caro|cara|beste)[ \t]+(?=\p{L})",
    regex.IGNORECASE,
)
_GREETING_WEAK = regex.compile(
    r"(?<![\p{L}\p{N}_])(?:hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|"
    r"evening)|morning|thanks|thank\s+you|cheers|bonjour|hallo|hola|ciao|hoi|salut)"
    r"[ \t]*,?[ \t]+(?=\p{L})",
    regex.IGNORECASE,
)
_INTRO_STRONG = regex.compile(
    r"(?<![\p{L}\p{N}_])(?:my\s+name\s+is|my\s+name's|name\s+is|call\s+me|"
    r"i\s+am\s+called|je\s+m'appelle|ich\s+heiße|ich\s+heisse|me\s+llamo|mi\s+chiamo|"
    r"mijn\s+naam\s+is|ik\s+ben)[ \t]+(?=\p{L})",
    regex.IGNORECASE,
)
_INTRO_WEAK = regex.compile(
    r"(?<![\p{L}\p{N}_])(?:i['\u2019]m|i\s+am|this\s+is|here\s+is|signed\s+by|assigned\s+to|"
    r"reported\s+by|approved\s+by|submitted\s+by|requested\s+by|prepared\s+by|"
    r"reviewed\s+by|spoke\s+(?:with|to)|talked\s+(?:with|to)|speak\s+(?:with|to)|"
    r"ask|ping|cc|contact|met\s+with|meeting\s+with|call\s+from|message\s+from|"
    r"email\s+from|on\s+behalf\s+of|attn\.?|attention|c/o|per)[ \t]*:?[ \t]+(?=\p{L})",
    regex.IGNORECASE,
)
_CALL_BACK = regex.compile(
    r"(?<![\p{L}\p{N}_])call[ \t]+(?=\p{L}[^\n]{0,40}?[ \t]back\b)", regex.IGNORECASE
)
_FIELD_STRONG = regex.compile(
    r"(?<![\p{L}\p{N}_])(?:full[ \t]+name|first[ \t]+name|given[ \t]+name|last[ \t]+name|"
    r"family[ \t]+name|surname|name|patient|customer|contact|owner|beneficiary|"
    r"(?:account[ \t]+|card[ \t]*)?holder|employee|candidate|applicant|tenant|guest|"
    r"passenger|client|insured|policyholder|member|witness|physician|doctor|nurse|"
    r"emergency[ \t]+contact|next[ \t]+of[ \t]+kin|spouse|signed|signature|nombre|nom|"
    r"prénom|vorname|nachname|naam|nome|cognome|apellidos?)[ \t]*:[ \t]*(?=\p{L})",
    regex.IGNORECASE,
)
_FIELD_WEAK = regex.compile(
    r"(?<![\p{L}\p{N}_\-])(?:from|to|cc|bcc|reply-to|sender|recipient|author|reviewer|"
    r"assignee|reporter|requester|agent|caller|user|by)[ \t]*:[ \t]*(?=\p{L})",
    regex.IGNORECASE,
)
_SIGN_OFF = regex.compile(
    r"(?im)^[ \t>]*(?:best(?:[ \t]+regards|[ \t]+wishes)?|kind[ \t]+regards|warm[ \t]+regards|"
    r"warmest[ \t]+regards|regards|many[ \t]+thanks|thanks(?:[ \t]+again)?|thank[ \t]+you|"
    r"cheers|sincerely|yours[ \t]+(?:sincerely|truly|faithfully)|respectfully|cordially|"
    r"take[ \t]+care|talk[ \t]+soon|all[ \t]+the[ \t]+best|love|br|"
    r"mit[ \t]+freundlichen[ \t]+grüßen|viele[ \t]+grüße|liebe[ \t]+grüße|grüße|"
    r"cordialement|bien[ \t]+à[ \t]+vous|saludos|un[ \t]+saludo|atentamente|"
    r"cordiali[ \t]+saluti|distinti[ \t]+saluti|met[ \t]+vriendelijke[ \t]+groet(?:en)?|"
    r"groeten)[ \t]*[,.!]?[ \t]*\r?\n[ \t>]*(?=\p{L})"
)
# "Anna:" / "JOHN SMITH:" at the start of a line (transcripts, chats).
_SPEAKER = regex.compile(r"(?m)^[ \t>*-]*(?=\p{L}[^\n:]{0,40}:)")
# E-mail display names: "John Smith <john@x.org>", "\"Smith, John\" <john@x.org>".
_DISPLAY = regex.compile(
    r"(?P<q>[\"'])?(?P<name>\p{L}[\p{L}\p{M}'\u2019.\- ]{0,60}?"
    r"(?:,[ \t]*\p{L}[\p{L}\p{M}'\u2019.\- ]{0,40}?)?)"
    r"(?P=q)?[ \t]*<[^<>@\s]+@[^<>\s]+>"
)


@dataclass(frozen=True, slots=True)
class NameOptions:
    context: bool = True
    lists: bool = True
    titles: bool = True
    any_case: bool = True
    score: float = 0.85


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    lower: str
    title: bool  # Title-case (each hyphen part), or an initial
    upper: bool  # ALL CAPS, 2+ letters
    code: bool  # looks like part of a code identifier


def _is_title(word: str) -> bool:
    parts = word.split("-")
    return all(_TITLE_PART.fullmatch(part) for part in parts if part)


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Drop overlaps: the longest span wins (then the earliest); result sorted by start."""
    chosen: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for f in sorted(findings, key=lambda f: (-(f.end - f.start), f.start)):
        if any(f.start < e and s < f.end for s, e in taken):
            continue
        chosen.append(f)
        taken.append((f.start, f.end))
    return sorted(chosen, key=lambda f: f.start)


class NameRecognizer:
    """Finds person names with cue, list and title rules (see the module docstring)."""

    def __init__(self, options: NameOptions | None = None) -> None:
        self.options = options or NameOptions()
        self._given = gazetteers.given_names()
        self._all_given = gazetteers.all_given_names()
        self._surnames = gazetteers.surnames()
        self._common_surnames = gazetteers.common_surnames()
        self._english = gazetteers.english_words()
        self._stop = gazetteers.STOP_WORDS
        self._cities = gazetteers.ambiguous_cities()

    # -- token predicates ------------------------------------------------------------------

    def _tokens(self, text: str) -> list[_Token]:
        code_regions = [(m.start(), m.end()) for m in _CODE_REGION.finditer(text)]
        tokens: list[_Token] = []
        n = len(text)
        for m in _WORD.finditer(text):
            start, end = m.start(), m.end()
            word = m.group()
            if word[-2:] in ("'s", "\u2019s") and len(word) > 3:
                end -= 2
                word = word[:-2]
            before = text[start - 1] if start else ""
            after = text[end] if end < n else ""
            after2 = text[end + 1] if end + 1 < n else ""
            code = (
                before in _CODE_BEFORE
                or after in _CODE_AFTER
                or (before == "." and start >= 2 and text[start - 2].isalnum())
                or (after == "." and after2.isalnum())
                or (after == "-" and after2.isalnum())
                or (before == "-" and start >= 2 and text[start - 2].isalnum())
                or any(s <= start < e for s, e in code_regions)
            )
            letters = word.replace("-", "").replace("'", "").replace("\u2019", "")
            upper = len(letters) >= 2 and letters.isupper()
            title = not upper and _is_title(word)
            if not title and not upper and not word.islower():
                code = True  # CamelCase ("GitHub", "iPhone")
            tokens.append(_Token(start, end, word, word.lower(), title, upper, code))
        return tokens

    @staticmethod
    def _keys(token: _Token) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(given-name keys, surname keys): the whole word and its accent-free form; for
        given names also the first hyphen part ("Jean-Luc"), for surnames every part."""
        low = token.lower.replace("\u2019", "'")
        forms = [low]
        folded = gazetteers._fold(low)
        if folded != low:
            forms.append(folded)
        given = [*forms, *(f.split("-", 1)[0] for f in forms if "-" in f)]
        sur = [*forms, *(p for f in forms if "-" in f for p in f.split("-") if p)]
        return tuple(given), tuple(sur)

    def _is_given(self, token: _Token, *, loose: bool = False) -> bool:
        if token.lower in UI_WORDS:
            return False
        names = self._all_given if loose else self._given
        return any(k in names for k in self._keys(token)[0])

    def _is_surname(self, token: _Token) -> bool:
        if token.lower in UI_WORDS:
            return False
        return any(k in self._surnames for k in self._keys(token)[1])

    def _plain_english(self, token: _Token) -> bool:
        low = token.lower
        return low in self._stop or low in UI_WORDS or gazetteers.is_english_word(low)

    def _shape_ok(self, token: _Token, *, cased: bool) -> bool:
        """Title-case always; ALL CAPS / lower case only when `cased` is False (any_case)."""
        if token.code:
            return False
        if token.title:
            return True
        return not cased and self.options.any_case

    def _surname_like(self, token: _Token, *, cased: bool, distinctive: bool = False) -> bool:
        """Whether a token can continue a name (middle name or surname). `distinctive`: the
        name started with a given name that is not an English word ("Ada", not "Julia")."""
        if not self._shape_ok(token, cased=cased):
            return False
        low = token.lower
        if low in UI_WORDS or low in self._stop:
            return False
        if not token.title:
            # lower/ALL CAPS: only a known surname or given name that is not a common word
            return (self._is_surname(token) or self._is_given(token)) and (
                low not in gazetteers.COMMON_WORDS or low in self._common_surnames
            )
        if self._is_given(token):
            return True
        if gazetteers.is_english_word(low):
            return low in self._common_surnames or (distinctive and self._is_surname(token))
        return True

    # -- sequences ---------------------------------------------------------------------------

    def _extend(self, text: str, tokens: list[_Token], i: int, *, cased: bool) -> int:
        """Index of the last token of the name starting at tokens[i] (at least i)."""
        last = i
        j = i + 1
        count = 1
        distinctive = not gazetteers.is_english_word(tokens[i].lower)
        while j < len(tokens) and count < 5:
            gap = text[tokens[j - 1].end : tokens[j].start]
            prev = tokens[j - 1]
            initial = len(prev.text) == 1 and prev.text.isupper()
            if not (gap.strip(" \t") == "" and gap) and not (initial and gap.rstrip(" \t") == "."):
                break
            if "\n" in gap:
                break
            tok = tokens[j]
            if tok.lower in _PARTICLES and not tok.upper:
                # particles must be followed (possibly via more particles) by a surname
                k = j
                while k < len(tokens) and tokens[k].lower in _PARTICLES and k - j < 3:
                    g2 = text[tokens[k].end : tokens[k + 1].start] if k + 1 < len(tokens) else ""
                    if not g2 or g2.strip(" \t") not in ("", "'") or "\n" in g2:
                        k = len(tokens)
                        break
                    k += 1
                if k < len(tokens) and self._surname_like(
                    tokens[k], cased=cased, distinctive=distinctive
                ):
                    last = k
                    j = k + 1
                    count += 1
                    continue
                break
            if len(tok.text) == 1 and tok.text.isupper():
                # middle initial: "John F. Kennedy" — only if a name follows
                if j + 1 < len(tokens) and text[tok.end : tok.end + 1] == ".":
                    j += 1
                    continue
                break
            if not self._surname_like(tok, cased=cased, distinctive=distinctive):
                break
            last = j
            j += 1
            count += 1
        return last

    def _finding(self, tokens: list[_Token], i: int, last: int) -> Finding:
        return Finding(ENTITY, tokens[i].start, tokens[last].end, self.options.score)

    def _after_cue(
        self,
        text: str,
        tokens: list[_Token],
        index: dict[int, int],
        pos: int,
        *,
        strength: str,
    ) -> Finding | None:
        i = index.get(pos)
        if i is None:
            return None
        tok = tokens[i]
        if (
            tok.code
            or tok.lower in UI_WORDS
            or tok.lower in _PARTICLES
            or tok.lower in self._stop
            or tok.lower in _TITLE_WORDS
        ):
            return None
        cased = not self.options.any_case
        if tok.title:
            if strength == "strong":
                ok = (
                    self._is_given(tok, loose=True)
                    or self._is_surname(tok)
                    or not self._plain_english(tok)
                )
            elif strength == "title":
                ok = tok.lower not in self._stop and (
                    self._is_surname(tok)
                    or self._is_given(tok, loose=True)
                    or not gazetteers.is_english_word(tok.lower)
                    or tok.lower in self._common_surnames
                )
            else:
                ok = self._is_given(tok) or (
                    tok.lower not in self._stop
                    and i + 1 < len(tokens)
                    and tokens[i + 1].title
                    and text[tok.end : tokens[i + 1].start] == " "
                    and self._is_surname(tokens[i + 1])
                    and not self._plain_english(tokens[i + 1])
                )
        elif self.options.any_case and (tok.upper or tok.text.islower()):
            ok = self._is_given(tok) or (strength == "title" and self._is_surname(tok))
            ok = ok and tok.lower not in gazetteers.COMMON_WORDS and len(tok.text) >= 3
        else:
            ok = False
        if not ok:
            return None
        last = self._extend(text, tokens, i, cased=cased)
        if strength == "intro" and last == i and tok.lower in self._cities:
            return None  # "this is Paris", "I'm Sydney-based"
        return self._finding(tokens, i, last)

    # -- rules ---------------------------------------------------------------------------------

    def find(self, text: str) -> list[Finding]:
        if not text:
            return []
        tokens = self._tokens(text)
        if not tokens:
            return []
        index = {t.start: k for k, t in enumerate(tokens)}
        found: list[Finding] = []
        opts = self.options

        def cue(pattern: regex.Pattern[str], strength: str) -> None:
            for m in pattern.finditer(text):
                f = self._after_cue(text, tokens, index, m.end(), strength=strength)
                if f is not None:
                    found.append(f)

        if opts.titles:
            cue(_TITLE_CUE, "title")
        if opts.context:
            cue(_GREETING_STRONG, "strong")
            cue(_INTRO_STRONG, "strong")
            cue(_FIELD_STRONG, "strong")
            cue(_SIGN_OFF, "strong")
            cue(_GREETING_WEAK, "weak")
            cue(_INTRO_WEAK, "intro")
            cue(_FIELD_WEAK, "weak")
            cue(_CALL_BACK, "weak")
            for m in _SPEAKER.finditer(text):
                f = self._after_cue(text, tokens, index, m.end(), strength="weak")
                if (
                    f is not None
                    and not text[f.start : f.end].islower()  # "meta: dict" is code
                    and text[f.end :].lstrip(" \t").startswith(":")
                ):
                    found.append(f)
            found.extend(self._display_names(text, tokens, index))
        if opts.lists:
            found.extend(self._pairs(text, tokens))
        return merge_findings(f for f in found if f.end > f.start)

    def _pairs(self, text: str, tokens: list[_Token]) -> Iterable[Finding]:
        any_case = self.options.any_case
        for i, tok in enumerate(tokens):
            if tok.code:
                continue
            if tok.title:
                if not self._is_given(tok):
                    continue
                last = self._extend(text, tokens, i, cased=True)
                if last > i:
                    first = i
                    # surname first ("Nguyễn Thị Lan", "Zhang Wei"): a distinctive surname
                    # right before the given name on the same line
                    prev = tokens[i - 1] if i else None
                    if (
                        prev is not None
                        and prev.title
                        and not prev.code
                        and text[prev.end : tok.start] == " "
                        and self._is_surname(prev)
                        and not self._is_given(prev)
                        and not self._plain_english(prev)
                    ):
                        first = i - 1
                    span = text[tokens[first].start : tokens[last].end].lower()
                    if span not in self._cities:  # "San Francisco", "Santa Clara"
                        yield self._finding(tokens, first, last)
                continue
            if not any_case or not (tok.upper or tok.text.islower()):
                continue
            # lower case / ALL CAPS: known given name + known surname (same case shape)
            if len(tok.text) < 3 or not self._is_given(tok) or i + 1 >= len(tokens):
                continue
            nxt = tokens[i + 1]
            if nxt.code or nxt.upper != tok.upper or nxt.title:
                continue
            if text[tok.end : nxt.start] not in (" ", "  "):
                continue
            if (
                self._is_surname(nxt)
                and nxt.lower not in self._stop
                and nxt.lower not in UI_WORDS
                and nxt.lower not in _PARTICLES
                # An English word ("style", "lines") only as a very common surname, and
                # a common word that is also a surname ("gay", "green") only in ALL CAPS.
                and (
                    not gazetteers.is_english_word(nxt.lower)
                    or (
                        nxt.lower in self._common_surnames
                        and (tok.upper or nxt.lower not in gazetteers.COMMON_WORDS)
                    )
                )
            ):
                yield Finding(ENTITY, tok.start, nxt.end, self.options.score)

    def _display_names(
        self, text: str, tokens: list[_Token], index: dict[int, int]
    ) -> Iterable[Finding]:
        for m in _DISPLAY.finditer(text):
            raw = m.group("name")
            start = m.start("name")
            # Trim leading words that are not part of the name ("From: John <...>" is
            # handled as the regex starts at the first letter after the label).
            inner = [t for t in tokens if start <= t.start and t.end <= m.end("name")]
            while inner and (inner[0].lower in UI_WORDS or inner[0].lower in self._stop):
                inner = inner[1:]
            if not inner or "\n" in raw or len(inner) > 5:
                continue
            if any(t.code or not (t.title or t.upper) for t in inner if t.lower not in _PARTICLES):
                continue
            if any(t.lower in UI_WORDS for t in inner):
                continue
            known = [t for t in inner if self._is_given(t, loose=True) or self._is_surname(t)]
            if not known:
                continue
            if len(inner) == 1 and not self._is_given(inner[0]):
                continue
            yield Finding(ENTITY, inner[0].start, inner[-1].end, self.options.score)
