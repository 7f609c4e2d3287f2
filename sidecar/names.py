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

import itertools
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
    r"(?:Mc|Mac|\p{Lu}['\u2019]|De|Di|Da|Du|La|Le|Van|Von|Fitz|Al-|El-)?\p{Lu}[\p{Ll}\p{M}'\u2019]*"
)
_CODE_BEFORE = frozenset("_@#$/\\=`~<{[|^")
_CODE_AFTER = frozenset("_@/\\=`({[|^")
_CODE_NEXT = regex.compile(
    r"[_@/\\=`({\[|^]|[.\-][\p{L}\p{N}]|[ \t]*[\[({<]?(?:at|dot|@|\.)\b", regex.IGNORECASE
)
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
    r"speaking\s+(?:with|to)|reach|copying|cc['\u2019]?ing|looping\s+in|"
    r"ask|ping|cc|contact|met\s+with|meeting\s+with|call\s+from|message\s+from|"
    r"email\s+from|on\s+behalf\s+of|attn\.?|attention|c/o|per)[ \t]*:?[ \t]+(?=\p{L})",
    regex.IGNORECASE,
)
_CALL_BACK = regex.compile(
    r"(?<![\p{L}\p{N}_])call[ \t]+(?=\p{L}[^\n]{0,40}?[ \t]back\b)", regex.IGNORECASE
)
_FIELD_STRONG = regex.compile(
    r"(?<![\p{L}\p{N}_])[\"']?(?:full[ \t_]+name|first[ \t_]+name|given[ \t_]+name|"
    r"last[ \t_]+name|family[ \t_]+name|(?:customer|contact|client|patient|holder|"
    r"display|legal)[ \t_]+name|surname|name|patient|customer|contact|owner|beneficiary|"
    r"(?:account[ \t]+|card[ \t]*)?holder|employee|candidate|applicant|tenant|guest|"
    r"passenger|client|insured|policyholder|member|witness|physician|doctor|nurse|"
    r"emergency[ \t]+contact|next[ \t]+of[ \t]+kin|spouse|signed|signature|nombre|nom|"
    r"prénom|vorname|nachname|naam|nome|cognome|apellidos?)[\"']?[ \t]*(?::|=(?!=))[ \t]*"
    r"[\"']?(?=\p{L})",
    regex.IGNORECASE,
)
_FIELD_WEAK = regex.compile(
    r"(?<![\p{L}\p{N}_\-])[\"']?(?:from|to|cc|bcc|reply-to|sender|recipient|author|"
    r"reviewer|assignee|reporter|requester|agent|caller|user|by|(?:account|line|case|"
    r"relationship|project|hiring|office|store)[ \t]+manager|manager|supervisor|"
    r"verified[ \t]+by|checked[ \t]+by|approved[ \t]+by|handled[ \t]+by|"
    r"signed[ \t]+off[ \t]+by|owner|contact[ \t]+person|account[ \t]+lead|"
    r"advisor|adviser|consultant|clinician|referrer|landlord|driver|courier|"
    r"teacher|student|parent|guardian)[\"']?[ \t]*:[ \t]*[\"']?(?=\p{L})",
    regex.IGNORECASE,
)
# "Name: da Silva, Patrizia" / "Holder: Köhler, Liesa": surname first, then the given name,
# filling the field.
_NAME_WORD = r"\p{Lu}[\p{L}\p{M}'\u2019]*(?:-\p{Lu}[\p{L}\p{M}'\u2019]*)*"
_LAST_FIRST = regex.compile(
    rf"(?P<particles>(?:(?:{'|'.join(sorted(_PARTICLES))})[ \t]+){{0,3}})"
    rf"(?P<last>{_NAME_WORD}),[ \t]*(?P<first>{_NAME_WORD})(?:[ \t]+{_NAME_WORD})?"
    r"(?=[ \t]*[\"']?[ \t]*(?:\r?\n|$|[;|]))",
    regex.IGNORECASE,
)
# Lists of people: "Attendees: Alison Jones, Edhitha Jhaveri and Tadeusz McAllister".
_LIST_FIELD = regex.compile(
    r"(?i)(?<![\p{L}\p{N}_])(?:attendees|participants|present|invitees|attending|"
    r"panel|speakers|authors|members|signatories)[ \t]*:[ \t]*(?=\p{L})"
)
_LIST_SEP = regex.compile(r"(?:[,;]|[ \t]and|[ \t]&)[ \t]+(?=\p{L})")
# What may follow a name that fills a greeting or a field: punctuation, "(", "<", a wide
# gap (statement columns) or the end of the line.
_VALUE_END = regex.compile(
    r"[ \t]*(?:$|\r?\n|[,;!?:()<>\[\]|\"'&]|\.(?!\w)|[ \t]{2,}|[ \t]-[ \t]|and[ \t])"
)
# "CURRICULUM VITAE\n\nGRISELDA LOMBROSO": the name heads a CV.
_HEADING = regex.compile(
    r"(?im)^[ \t#*]*(?:curriculum[ \t]+vitae|résumé|resume|cv|lebenslauf)[ \t*]*\r?\n"
    r"(?:[ \t]*\r?\n)*[ \t#*]*(?=\p{L})"
)
# "Best, Destiny Hardy" / "Signed, Viraj Puri." / "Thanks, Leanne." on one line.
_SIGN_OFF_INLINE = regex.compile(
    r"(?i)(?<![\p{L}\p{N}_])(?:best|best[ \t]+regards|kind[ \t]+regards|regards|"
    r"warm[ \t]+regards|sincerely|signed|many[ \t]+thanks|cheers|love|yours)[ \t]*,[ \t]*"
    r"(?=\p{L})"
)
# Bank statement lines: "SEPA TRANSFER FROM JULIE MARY", "PAYMENT TO Anna Smith".
_TRANSFER = regex.compile(
    r"(?i)(?<![\p{L}\p{N}_])(?:transfer|payment|remittance|credit|debit|standing[ \t]+order|"
    r"faster[ \t]+payment|bacs|giro|überweisung|virement)[ \t]+(?:from|to|von|an|de|à)"
    r"[ \t]*:?[ \t]+(?=\p{L})"
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
# "Agent (Callum): ...", "[00:06:36] Agent (Callum):", "Internal note (Teresa):".
_PAREN_SPEAKER = regex.compile(r"(?m)^[^\n()]{1,40}\((?=\p{L}[^\n():]{0,40}\):)")
# E-mail display names: "John Smith <john@x.org>", "\"Smith, John\" <john@x.org>".
_DISPLAY = regex.compile(
    r"(?P<q>[\"'])?(?P<name>\p{L}[\p{L}\p{M}'\u2019.\- ]{0,60}?"
    r"(?:,[ \t]*\p{L}[\p{L}\p{M}'\u2019.\- ]{0,40}?)?)"
    r"(?P=q)?[ \t]*<[^<>@\s]+@[^<>\s]+>"
)


# Words around a name word that make it part of a place: "Lake Angela", "Oliver Court".
_PLACE_BEFORE: frozenset[str] = word_set(
    """
    lake east west north south new port fort mount mt saint st san santa via viale strada
    piazza corso calle rue avenida incrocio contrada borgo vicolo largo rua travessa
    """
)
_PLACE_AFTER: frozenset[str] = word_set(
    """
    court ct estate estates island islands mall crest road rd street st avenue ave drive dr
    lane ln way walk place square park gardens garden pines coves cove junction junctions
    hill hills view views village villages heights ridge point port mill mills station
    circle crescent close grove terrace row parkway plaza green fields field meadows bridge
    harbor harbour valley springs falls creek shores center centre tower city county town
    """
)
_MONTHS: frozenset[str] = word_set("jan feb mar apr jun jul aug sep sept oct nov dec")

_ANGLE_ADDRESS = regex.compile(r"<[^<>@\s]+@[^<>\s]+>")


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
    mixed: bool = False  # aLtErNaTiNg case ("rObErT"): an obfuscated any-case word


def _is_title(word: str) -> bool:
    parts = word.split("-")
    return all(_TITLE_PART.fullmatch(part) for part in parts if part)


def _case_changes(letters: str) -> int:
    flags = [c.isupper() for c in letters if c.isalpha()]
    return sum(1 for a, b in itertools.pairwise(flags) if a != b)


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
            mixed = False
            if not title and not upper and not word.islower():
                changes = _case_changes(letters)
                if changes >= 4 or (changes >= 3 and letters[0].islower()):
                    mixed = True  # "aDèLe rObErT": alternating case hides a name
                else:
                    code = True  # CamelCase ("GitHub", "iPhone", "LinkedIn")
            tokens.append(_Token(start, end, word, word.lower(), title, upper, code, mixed))
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
        """The name right after a cue ending at `pos`. Strengths: "strong" (any name-like
        token), "title", "weak"/"intro" (a known given name first), "greet" (weak, or a
        name-like token that ends the greeting: "Hello Nout," / "Thanks, Grace."), "field"
        (weak, or a whole field value of name-like words: "Agent: Varenya Sampath\n")."""
        i = index.get(pos)
        if i is None:
            return None
        tok = tokens[i]
        if strength in ("strong", "field"):
            reverse = self._last_first(text, tokens, index, pos)
            if reverse is not None:
                return reverse
        # "full_name=anna", "\"customer\": \"Anna\"": the key makes the value a name
        keyed = (
            tok.code
            and strength in ("strong", "field")
            and text[tok.start - 1] in "=\"'"
            and not _CODE_NEXT.match(text, tok.end)  # "contact=anna.smith(at)x" is an address
        )
        if (
            (tok.code and not keyed)
            or tok.lower in UI_WORDS
            or tok.lower in _PARTICLES
            or tok.lower in self._stop
            or tok.lower in _TITLE_WORDS
        ):
            return None
        cased = not self.options.any_case
        ok = False
        if tok.title:
            if strength == "strong":
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                ok = (
                    self._is_given(tok, loose=True)
                    or self._is_surname(tok)
                    or not self._plain_english(tok)
                    # "Dear Raf Janssens": a word-like first name before a surname
                    or (
                        nxt is not None
                        and nxt.title
                        and not nxt.code
                        and text[tok.end : nxt.start] == " "
                        and not self._plain_english(nxt)
                    )
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
        elif self.options.any_case and (tok.upper or tok.text.islower() or tok.mixed):
            ok = self._is_given(tok) or (strength == "title" and self._is_surname(tok))
            ok = ok and tok.lower not in gazetteers.COMMON_WORDS and len(tok.text) >= 3
        if not ok and strength in ("greet", "field"):
            return self._whole_value(text, tokens, i, strength=strength)
        if not ok:
            return None
        last = self._extend(text, tokens, i, cased=cased)
        if strength == "intro" and last == i and tok.lower in self._cities:
            return None  # "this is Paris", "I'm Sydney-based"
        return self._finding(tokens, i, last)

    def _last_first(
        self, text: str, tokens: list[_Token], index: dict[int, int], pos: int
    ) -> Finding | None:
        m = _LAST_FIRST.match(text, pos)
        if m is None or not m.group("last")[0].isupper() or not m.group("first")[0].isupper():
            return None
        first = tokens[index[m.start("first")]] if m.start("first") in index else None
        last = tokens[index[m.start("last")]] if m.start("last") in index else None
        if first is None or last is None or first.code or last.code:
            return None
        if first.lower in UI_WORDS or last.lower in UI_WORDS or last.lower in self._stop:
            return None
        if not (self._is_given(first, loose=True) or not self._plain_english(first)):
            return None
        if self._plain_english(last) and not self._is_surname(last):
            return None
        return Finding(ENTITY, m.start(), m.end(), self.options.score)

    def _whole_value(
        self, text: str, tokens: list[_Token], i: int, *, strength: str
    ) -> Finding | None:
        """A name that fills the rest of a greeting or a field on its own ("Hello Nout,",
        "Agent: Varenya Sampath\n", "TRANSFER FROM OMKAAR RAMASWAMY   +£1.00"): every word
        name-shaped and not an ordinary English word (a greeting also takes a known given
        name that is a word: "Hi Grace,")."""
        any_case = self.options.any_case
        last = i
        j = i
        while j < len(tokens) and j - i < 4:
            tok = tokens[j]
            if j > i:
                gap = text[tokens[j - 1].end : tok.start]
                if gap not in (" ", "\u00a0"):
                    break
            if tok.lower in _PARTICLES and j > i and not tok.upper:
                j += 1
                continue
            shaped = tok.title or (any_case and (tok.upper or tok.mixed or tok.text.islower()))
            if (tok.code and j > i) or not shaped or len(tok.text) < 2:
                break
            if j > i and not tok.title and tok.lower in self._stop:
                break  # "Edhitha Jhaveri and Tadeusz Nowak"
            last = j
            j += 1
        if tokens[last].lower in _PARTICLES:
            return None
        words = tokens[i : last + 1]
        if any(t.lower in UI_WORDS or t.lower in self._stop for t in words):
            return None
        if not _VALUE_END.match(text, tokens[last].end):
            return None
        if strength == "greet" and len(words) == 1 and words[0].title:
            tok = words[0]
            if self._is_given(tok, loose=True) or not self._plain_english(tok):
                return self._finding(tokens, i, last)
            return None
        cased_words = [t for t in words if t.lower not in _PARTICLES]
        if len(cased_words) < 2 and not (strength == "greet" and cased_words[0].title):
            return None
        # lower/mixed case: only with a known given name or surname among the words
        if (
            not all(t.title for t in cased_words)
            and not all(t.upper for t in cased_words)
            and not any(self._is_given(t) or self._is_surname(t) for t in cased_words)
        ):
            return None
        if any(self._plain_english(t) for t in cased_words):
            known = [t for t in cased_words if self._is_given(t, loose=True) or self._is_surname(t)]
            plain = [t for t in cased_words if self._plain_english(t)]
            # "Destiny Hardy": given names and common surnames may be words
            if not known or any(
                t.lower not in self._common_surnames and not self._is_given(t, loose=True)
                for t in plain
            ):
                return None
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
            cue(_HEADING, "field")
            cue(_GREETING_WEAK, "greet")
            cue(_SIGN_OFF_INLINE, "greet")
            cue(_INTRO_WEAK, "intro")
            cue(_FIELD_WEAK, "field")
            cue(_TRANSFER, "field")
            cue(_CALL_BACK, "weak")
            for m in _LIST_FIELD.finditer(text):
                line_end = text.find("\n", m.end())
                line_end = len(text) if line_end < 0 else line_end
                starts = [m.end()] + [x.end() for x in _LIST_SEP.finditer(text, m.end(), line_end)]
                for pos in starts:
                    f = self._after_cue(text, tokens, index, pos, strength="field")
                    if f is not None:
                        found.append(f)
            for pattern in (_SPEAKER, _PAREN_SPEAKER):
                for m in pattern.finditer(text):
                    if pattern is _PAREN_SPEAKER and tokens[index.get(m.end(), 0)].upper:
                        continue  # "Bank account (IBAN):" is a label
                    f = self._after_cue(text, tokens, index, m.end(), strength="weak")
                    if (
                        f is None
                        and pattern is _PAREN_SPEAKER
                        and (tok := tokens[index[m.end()]]).title
                        and (self._is_given(tok, loose=True) or self._is_surname(tok))
                    ):
                        f = self._after_cue(text, tokens, index, m.end(), strength="strong")
                    if (
                        f is not None
                        and not text[f.start : f.end].islower()  # "meta: dict" is code
                        and text[f.end :]
                        .lstrip(" \t")
                        .startswith(":" if pattern is _SPEAKER else "):")
                    ):
                        found.append(f)
            found.extend(self._display_names(text, tokens, index))
        if opts.lists:
            found.extend(self._pairs(text, tokens))
        found = [f for f in found if f.end > f.start]
        if found:
            found.extend(self._repeats(text, tokens, found))
        return merge_findings(found)

    def _repeats(self, text: str, tokens: list[_Token], found: list[Finding]) -> Iterable[Finding]:
        """Other mentions of a name already found in this text ("Attendees: Edhitha Jhaveri"
        ... "Edhitha: yes" ... "Alison owns the notes, Edhitha the call"). Only words that
        cannot be ordinary words: not English, not a stop/UI word, 3+ letters; a given name
        that is also a word ("Iris", "Grace") only mid-sentence or as a speaker."""
        names: set[str] = set()
        wordy: set[str] = set()
        spans = sorted((f.start, f.end) for f in found)
        k = 0
        for tok in tokens:
            while k < len(spans) and spans[k][1] <= tok.start:
                k += 1
            if k >= len(spans) or not (spans[k][0] <= tok.start and tok.end <= spans[k][1]):
                continue
            low = tok.lower
            if len(low) < 3 or low in _PARTICLES or low in UI_WORDS or low in self._stop:
                continue
            if low in gazetteers.COMMON_WORDS or gazetteers.is_english_word(low):
                if tok.title and self._is_given(tok, loose=True):
                    wordy.add(low)
                continue
            names.add(low)
        if not names and not wordy:
            return
        k_of = {t.start: n for n, t in enumerate(tokens)}
        for tok in tokens:
            if tok.code or not (tok.title or tok.upper or tok.mixed):
                continue
            if not (
                tok.lower in names
                or (tok.lower in wordy and tok.title and self._mid_or_speaker(text, tok))
            ):
                continue
            if self._in_address(text, tokens, k_of[tok.start]):
                continue
            yield Finding(ENTITY, tok.start, tok.end, self.options.score)

    @staticmethod
    def _in_address(text: str, tokens: list[_Token], k: int) -> bool:
        """A name word used as a place or a date ("12 Oliver Court", "Lake Angela, NY",
        "26 Jan 2023", "Via Alberico, 51"): not a mention of the person."""
        tok = tokens[k]
        if tok.lower in _MONTHS:
            return True
        before = text[max(0, tok.start - 2) : tok.start]
        if before[-1:].isdigit() or before[:1].isdigit():
            return True
        if k and tokens[k - 1].lower in _PLACE_BEFORE and tokens[k - 1].end >= tok.start - 1:
            return True
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        return (
            nxt is not None and nxt.start - tok.end <= 1 and nxt.title and nxt.lower in _PLACE_AFTER
        )

    @staticmethod
    def _mid_or_speaker(text: str, tok: _Token) -> bool:
        before = text[max(0, tok.start - 3) : tok.start].rstrip(" \t")
        if text[tok.end : tok.end + 1] in (":", ","):
            return True
        return bool(before) and before[-1] not in ".!?\n\"'(*#>-"

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
            if not any_case or not (tok.upper or tok.text.islower() or tok.mixed):
                continue
            # lower case / ALL CAPS: known given name + known surname (same case shape)
            if len(tok.text) < 3 or not self._is_given(tok) or i + 1 >= len(tokens):
                continue
            nxt = tokens[i + 1]
            if nxt.code or nxt.title or (not (tok.mixed or nxt.mixed) and nxt.upper != tok.upper):
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

    @staticmethod
    def _display_matches(text: str) -> Iterable[regex.Match[str]]:
        """`_DISPLAY` matches, searched only on the lines before each "<address>" (a
        display name never crosses a line), which is much faster than scanning the text."""
        done = 0
        for addr in _ANGLE_ADDRESS.finditer(text):
            lo = max(text.rfind("\n", 0, addr.start()) + 1, addr.start() - 160, done)
            m = _DISPLAY.search(text, lo, addr.end())
            if m is not None:
                done = m.end()
                yield m

    def _display_names(
        self, text: str, tokens: list[_Token], index: dict[int, int]
    ) -> Iterable[Finding]:
        for m in self._display_matches(text):
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
