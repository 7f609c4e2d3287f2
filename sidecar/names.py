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
  pair, a known given name + a word that is no English, place or function word
  ("anna kallert"), or after a cue (then the first token must be a known given name or,
  after a title, a known surname).
- short forms, whatever the context: "Wade, Margaret" (surname, comma, known given name;
  not a place, not inside a list of words), "E. Wilson" (initial + known surname),
  "Hannah K." (known given name + initial). Chat mentions ("@Megan Wilson") are names,
  not handles.

- structure: table columns under a header that names a person ("Name", "Owner",
  "Assignee", "customer_name"; Markdown, CSV, TSV, SQL INSERT column lists), two-cell label
  rows, keyed values (`"assigned_to": "..."`, `<owner>...</owner>`, "Account owner: ...",
  `?user=Mei+Tan`): the whole cell or value must be name-shaped (`person_field`).
- e-mail evidence: capitalised words that appear in the local part of an e-mail address in
  the same text ("Tanmayi Patla (tanmayi_patla68@x.org)", "reach Damini at damini_l@x.nl").
- verbs: "asked/told/thanked X", "my colleague X", "the account lead is X", "X from the
  front desk", "X said/wrote/confirmed"; after a preposition ("for", "with", "to") only two
  or more name-shaped words. Two or more name-shaped words right before an e-mail address or
  a phone number, names listed with a name already found ("A, B and C"), a name alone on a
  line above a contact line (signature blocks), and two or three capitalised words in a row
  none of which is an English, UI or company word or a place.

Precision guards: given names exclude common English words (gazetteers.COMMON_WORDS and
spaCy's stop words); a surname slot rejects UI/code words (`UI_WORDS`) and ordinary English
words; tokens that look like code (next to `_ . @ / \\ $ # =`, CamelCase such as "GitHub",
inside backticks or fenced code blocks) are never names.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

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
# The characters before / after a word that `_code_neighbours` looks at.
_CODE_BEFORE_ANY = _CODE_BEFORE | {".", "-"}
_CODE_AFTER_ANY = _CODE_AFTER | {".", "-"}
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
_SENTENCE_BREAK = regex.compile(r"[.!?][ \t]+\p{Lu}")


# -- structure rules: table columns, keyed values, e-mail evidence, verb cues -------------------

# Field / column / key names whose values are people. A header names a person when its last
# word is one of these ("Account owner", "assigned_to", "salesRep"), or it ends in "name"
# without a non-person word before it ("Customer name", "full_name", not "file_name").
_PERSON_ROLES: frozenset[str] = word_set(
    """
    customer contact owner employee patient assignee agent attendee client member holder
    cardholder requester requestor reporter author manager rep representative lead person
    recipient sender guest passenger tenant student teacher doctor physician nurse
    clinician applicant candidate signatory beneficiary payee payer speaker interviewer
    interviewee host organizer organiser approver reviewer witness driver courier referrer
    caller technician consultant advisor adviser buyer seller landlord supervisor
    participant volunteer attendant worker staff surname fullname firstname lastname
    givenname familyname forename nombre nom prénom vorname nachname naam nome cognome
    apellido apellidos interpreter therapist dentist surgeon pharmacist physio counsellor
    counselor coach trainer instructor tutor mentor mentee lawyer solicitor attorney
    accountant auditor inspector officer sponsor signer submitter creator contributor
    maintainer committer assigner handler dispatcher operator pilot
    """
)
# Words before "name" that make the field something other than a person's name.
_NOT_PERSON_NAME: frozenset[str] = word_set(
    """
    file user host company product org organisation organization business domain project
    app bank brand street city country item package service table column field key branch
    store shop vendor merchant team group model device server db database event plan course
    title module class function method variable var param parameter attribute tag label
    display screen nick site page path dir directory folder image container pod cluster
    node queue topic bucket region zone network dns file's repo repository account
    """
)
# Words that end a company or product name rather than a person's ("Acme Ltd", "Nova App").
_ORG_WORDS: frozenset[str] = word_set(
    """
    ltd gmbh inc corp llc plc sa ag bv nv srl spa sas sarl kg oy ab as co company group
    studio studios app apps cloud labs systems solutions technologies tech partners
    holdings bank university hospital clinic school college institute foundation trust
    services consulting software games media digital health pharma logistics ventures
    capital associates agency enterprises industries international global
    """
)
_ROLE_PHRASE = regex.compile(
    r"(?:assigned|created|submitted|approved|requested|reported|reviewed|signed|verified|"
    r"prepared|handled|owned|checked|entered|updated|modified|raised|opened|closed)[ _-]?by|"
    r"assigned[ _-]?to|point[ _-]of[ _-]contact|poc|next[ _-]of[ _-]kin|emergency[ _-]contact",
    regex.IGNORECASE,
)
_CAMEL_SPLIT = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")
_KEY_SEP = regex.compile(r"[\s_\-./]+")


def person_field(label: str) -> bool:
    """Whether a column header, field label or key names a person ("Customer", "Assignee",
    "full_name", "contactName", "Account owner", "Assigned to"). Not cached: a label is
    text of the request (a table's first row may be a row of names), and a cache would
    keep it for the life of the process."""
    key = label.strip(" \t\"'`*_#[]<>:")
    if not key or len(key) > 40 or any(c.isdigit() for c in key):
        return False
    if _ROLE_PHRASE.fullmatch(key):
        return True
    words = _KEY_SEP.split(_CAMEL_SPLIT.sub(" ", key).lower())
    words = [w for w in words if w]
    if not words or len(words) > 4:
        return False
    last = words[-1]
    if last in ("name", "names"):
        return len(words) == 1 or not any(w in _NOT_PERSON_NAME for w in words[:-1])
    if last in ("s",):
        return False
    if last.endswith("s") and last[:-1] in _PERSON_ROLES:
        last = last[:-1]  # "Attendees", "Owners"
    return last in _PERSON_ROLES and not any(w in ("id", "email", "phone") for w in words)


# Markdown / CSV / TSV table rows and SQL INSERT column lists.
_SQL_INSERT = regex.compile(
    r"(?i)insert[ \t]+into[ \t]+[\w.\"`\[\]]+[ \t]*\((?P<cols>[^()]{1,500})\)[ \t\r\n]*values"
)
_EMAIL = regex.compile(
    r"(?<![\p{L}\p{N}._%+\-])(?P<local>[\p{L}\p{N}._%+\-]{1,64})@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+"
)
# key = value / "key": "value" / key: value (the value fills the rest up to a delimiter).
_KEYED_VALUE = regex.compile(
    r"(?<![\p{L}\p{N}_])(?P<q0>[\"']?)(?P<key>\p{L}[\p{L}\p{N}_\-]{0,39})(?P=q0)[ \t]*"
    r"(?:=>|:|=(?!=))[ \t]*(?P<q>[\"']?)(?=\p{L})"
)
_XML_VALUE = regex.compile(
    r"<(?P<key>\p{L}[\p{L}\p{N}_\-:.]{0,39})(?:[ \t][^<>\n]{0,200})?>[ \t]*"
    r"(?P<value>[^<>\n]{1,80}?)[ \t]*</(?P=key)>"
)
# A multi-word label at the start of a line: "Account owner: Lata Pillai".
_LINE_LABEL = regex.compile(
    r"(?m)^[ \t>*#\-•]*(?P<key>\p{L}[\p{L} _\-/]{0,38}?)[ \t*]*:[ \t*]*(?=\p{L})"
)
# URL query parameters: "?user=Sebastian+Rosemann&x=1".
_QUERY_VALUE = regex.compile(
    r"[?&;](?P<key>[\p{L}_][\p{L}\p{N}_\-.]{0,30})=(?P<value>[^&#\s\"'<>]{2,80}"
    r"(?: \p{Lu}[^&#\s\"'<>]{1,40}){0,3})"
)
_QUERY_SEP = regex.compile(r"\+|%20|%2[bB]|_|\.| ")
_CAPITALISED = regex.compile(r"\p{Lu}\p{Ll}+")
_NON_LETTERS = regex.compile(r"[^\p{L}]+")
_COMMA_GAP = regex.compile(r"[ \t]*,?[ \t]*")
_RULE_ROW = regex.compile(r"[\s|:\-+=]*")  # "|---|:--|" under a Markdown header
_SQL_TUPLE = regex.compile(r"\(([^()\n]*)\)")

# Verbs that take a person as object ("asked Tanvi", "thanks to Gaja Mikosz"): a single
# unknown word is enough after these.
_VERB_BEFORE = regex.compile(
    r"(?i)(?<![\p{L}\p{N}_])(?:told|tell|asked|thanked|thank|reminded|remind|emailed|"
    r"e-mailed|messaged|texted|phoned|pinged|informed|notified|contacted|invited|"
    r"introduced|introducing|congratulated|congratulate|named|"
    r"(?:forwarded|escalated|handed|passed|transferred|sent|assigned|reassigned|"
    r"gave|give|wrote|write|replied|reply|reminder|note|letter|thanks|according|"
    r"talk|talked|spoke|speak|chat|chatted)[ \t]+(?:it|this|them|him|her)?[ \t]*"
    r"(?:over[ \t]+|back[ \t]+)?(?:to|with)|together[ \t]+with|along[ \t]+with|"
    r"(?:my|our|your|the|their|his|her)[ \t]+(?:colleague|co-?worker|manager|boss|wife|"
    r"husband|son|daughter|mother|father|brother|sister|partner|neighbou?r|friend|tenant|"
    r"landlord|patient|customer|client|employee|technician|engineer|nurse|doctor|agent|"
    r"contact|advisor|adviser|consultant|assistant|supervisor|teammate|rep|"
    r"representative|caseworker|dentist|therapist|mentor|recipient|sender|driver|"
    r"courier|caller|holder|applicant|candidate|guest|member|owner|interpreter|host),?|"
    r"(?:contact|owner|lead|manager|admin|agent|rep|representative|advisor|adviser|"
    r"consultant|supervisor|assignee|doctor|physician|nurse|name)[ \t]+(?:is|was|"
    r"will[ \t]+be))"
    r"[ \t]+(?=\p{Lu})"
)
# Prepositions before a person: only with two or more name-shaped words ("for Gaja Mikosz",
# "with Naksh Chana"), never a single word ("for Kubernetes").
_PREP_BEFORE = regex.compile(
    r"(?i)(?<![\p{L}\p{N}_])(?:by|with|for|to|and|from|cc|see|ask|of|about|between|"
    r"behalf[ \t]+of|via|including|excerpt[ \t]+for)[ \t]+(?=\p{Lu})"
)
# What follows a person: "Dan from the front desk said", "Tanvi wrote", "Tanvi, from our
# team, confirmed".
_VERB_AFTER = regex.compile(
    r"[ \t]*(?:,[ \t]*)?(?:from[ \t]+(?:the|our|your|their|my)[ \t]+\p{L}|"
    r"(?:said|says|wrote|writes|replied|replies|confirmed|confirms|mentioned|mentions|"
    r"noted|explained|explains|agreed|agrees|suggested|suggests|emailed|e-mailed|"
    r"phoned|messaged|texted|told|tells|complained|complains|thinks|recommended|"
    r"recommends|requested|asked|asks|reported|promised|insisted|clarified|"
    r"responded|answered|admitted|argued|added|pointed[ \t]+out|called[ \t]+(?:back|in|"
    r"about|to|again|yesterday|today))(?![\p{L}\p{N}_]))",
)

# -- scanning only where a match can start -----------------------------------------------------
#
# `pattern.finditer(text)` has the regex engine try a match at every character; for the
# twenty-odd patterns below that took about a third of `find`. Each of them can only match at
# a few known places: a word cue at a letter that follows no letter, digit or "_" (or at a
# quote right before one), `_KEYED_VALUE` there too but only a little before a ":" or "=",
# and a `(?m)^` pattern at a line start. `_finditer_at` and `_word_cue_matches` try the
# patterns there only and find exactly the matches `finditer` finds. A new cue that starts
# that way belongs in `_WORD_CUES`; any other cue must keep using `finditer`.


def _case_insensitive(*patterns: regex.Pattern[str]) -> tuple[regex.Pattern[str], ...]:
    """`patterns`, checked to ignore case: `_cues_from` looks them up by lower-case text."""
    for pattern in patterns:
        if not pattern.flags & regex.IGNORECASE:
            raise ValueError(f"a word cue must ignore case: {pattern.pattern[:60]!r}")
    return patterns


# Word cues: each ignores case and never matches the empty string.
_WORD_CUES = _case_insensitive(
    _TITLE_CUE,
    _GREETING_STRONG,
    _INTRO_STRONG,
    _FIELD_STRONG,
    _GREETING_WEAK,
    _SIGN_OFF_INLINE,
    _INTRO_WEAK,
    _FIELD_WEAK,
    _TRANSFER,
    _CALL_BACK,
    _LIST_FIELD,
    _VERB_BEFORE,
    _PREP_BEFORE,
)
_WORD_START = regex.compile(r"(?<![\p{L}\p{N}_])\p{L}")
_KEY_SEPARATOR = regex.compile(r"[:=]")
_NEWLINE = regex.compile(r"\n")


# Cached on at most three ASCII characters, so the cache stays small whatever the texts.
@functools.cache
def _cues_from(head: str) -> tuple[regex.Pattern[str], ...]:
    """The word cues that can match where the text starts with `head` (in lower case, as
    the cues ignore case): a partial match says whether some text starting so could."""
    return tuple(p for p in _WORD_CUES if p.match(head, partial=True) is not None)


def _word_starts(text: str) -> list[int]:
    """Sorted positions of every letter that follows no letter, digit or "_", and of a quote
    right before such a letter."""
    starts = [m.start() for m in _WORD_START.finditer(text)]
    quoted = [p - 1 for p in starts if p and text[p - 1] in "\"'"]
    return sorted(starts + quoted) if quoted else starts


def _key_starts(text: str, starts: list[int]) -> list[int]:
    """Those of `starts` (sorted) where `_KEYED_VALUE` can match: a key of at most 40
    characters, maybe quoted, then spaces and ":" or "="."""
    out: list[int] = []
    taken = 0  # starts[:taken] are decided
    for sep in _KEY_SEPARATOR.finditer(text):
        end = sep.start()
        while end and text[end - 1] in " \t":
            end -= 1
        if end and text[end - 1] in "\"'":
            end -= 1
        first = max(taken, bisect.bisect_left(starts, end - 41))
        taken = max(taken, bisect.bisect_left(starts, end))
        out += starts[first:taken]
    return out


def _line_starts(text: str) -> list[int]:
    """Where `(?m)^` matches: the start of the text and after each "\\n"."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def _finditer_at(
    pattern: regex.Pattern[str], text: str, starts: list[int]
) -> list[regex.Match[str]]:
    """`list(pattern.finditer(text))` for a pattern that can only match at one of `starts`
    (sorted, no repeats) and matches the empty string only where nothing longer matches."""
    matches = []
    resume = 0  # finditer goes on after the end of a match
    for pos in starts:
        if pos >= resume and (m := pattern.match(text, pos)) is not None:
            matches.append(m)
            resume = m.end()
    return matches


def _word_cue_matches(text: str) -> dict[regex.Pattern[str], list[regex.Match[str]]]:
    """`list(cue.finditer(text))` for each of `_WORD_CUES` and for `_KEYED_VALUE`."""
    matches: dict[regex.Pattern[str], list[regex.Match[str]]] = {p: [] for p in _WORD_CUES}
    resume = dict.fromkeys(_WORD_CUES, 0)  # as in `_finditer_at`, for each cue
    starts = _word_starts(text)
    for pos in starts:
        # the cues that fit the three ASCII letters there (or two ASCII characters), or
        # else all of them
        head = text[pos : pos + 3]
        if not (head.isascii() and head.isalpha()):
            head = head[:2]
        for cue in _cues_from(head.lower()) if head.isascii() else _WORD_CUES:
            if pos >= resume[cue] and (m := cue.match(text, pos)) is not None:
                matches[cue].append(m)
                resume[cue] = m.end()
    matches[_KEYED_VALUE] = _finditer_at(_KEYED_VALUE, text, _key_starts(text, starts))
    return matches


@dataclass(frozen=True, slots=True)
class NameOptions:
    context: bool = True
    lists: bool = True
    titles: bool = True
    any_case: bool = True
    score: float = 0.85


# Not frozen: a frozen dataclass's __init__ is several times slower, and a text has tens of
# thousands of tokens. Only the `english` cache is set after `_tokens` makes them.
@dataclass(slots=True)
class _Token:
    start: int
    end: int
    text: str
    lower: str
    title: bool  # Title-case (each hyphen part), or an initial
    upper: bool  # ALL CAPS, 2+ letters
    code: bool  # looks like part of a code identifier
    mixed: bool = False  # aLtErNaTiNg case ("rObErT"): an obfuscated any-case word
    # gazetteers.is_english_word(lower), worked out on first use (`_is_english`): the rules
    # ask it about the same token many times
    english: bool | None = field(default=None, compare=False, repr=False)


_token_start = attrgetter("start")
_token_end = attrgetter("end")


def _is_title(word: str) -> bool:
    if "-" not in word:
        return _TITLE_PART.fullmatch(word) is not None
    return all(_TITLE_PART.fullmatch(part) for part in word.split("-") if part)


def _fold(text: str) -> str:
    """`gazetteers._fold`, skipping Unicode normalisation for ASCII text (most words),
    where it changes nothing but the case."""
    return text.lower() if text.isascii() else gazetteers._fold(text)


def _inside(regions: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Whether `pos` is inside one of `regions` (disjoint, sorted; `starts` their starts)."""
    k = bisect.bisect_right(starts, pos) - 1
    return k >= 0 and pos < regions[k][1]


def _code_neighbours(text: str, start: int, end: int) -> bool:
    """Whether the characters around the word text[start:end] make it part of code: an
    identifier, a path, a dotted or hyphenated name, an address."""
    n = len(text)
    before = text[start - 1] if start else ""
    after = text[end] if end < n else ""
    after2 = text[end + 1] if end + 1 < n else ""
    # "@Megan Wilson can you review?": a chat mention, not a handle or an address
    mention = before == "@" and (start < 2 or not text[start - 2].isalnum())
    return (
        (before in _CODE_BEFORE and not mention)
        or after in _CODE_AFTER
        or (before == "." and start >= 2 and text[start - 2].isalnum())
        or (after == "." and after2.isalnum())
        or (after == "-" and after2.isalnum())
        or (before == "-" and start >= 2 and text[start - 2].isalnum())
    )


def _case_changes(letters: str, most: int = 4) -> int:
    """How often upper and lower case alternate along the letters, counted up to `most`
    (long random strings such as tokens and hashes need not be read to the end)."""
    flags = (c.isupper() for c in letters if c.isalpha())
    previous = next(flags, None)
    changes = 0
    for flag in flags:
        if flag != previous:
            changes += 1
            if changes == most:
                break
            previous = flag
    return changes


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Drop overlaps: the longest span wins (then the earliest); result sorted by start."""
    chosen: list[Finding] = []
    # The non-empty spans taken so far, disjoint and sorted, so their ends are sorted too
    # and one bisection finds the only span that can overlap. Empty spans never overlap
    # one that is processed after them (it is no longer than they are).
    starts: list[int] = []
    ends: list[int] = []
    for f in sorted(findings, key=lambda f: (-(f.end - f.start), f.start)):
        k = bisect.bisect_right(ends, f.start)
        if k < len(ends) and starts[k] < f.end:
            continue
        chosen.append(f)
        if f.start < f.end:
            starts.insert(k, f.start)
            ends.insert(k, f.end)
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
        code_regions = [m.span() for m in _CODE_REGION.finditer(text)]
        region_starts = [s for s, _ in code_regions]
        tokens: list[_Token] = []
        n = len(text)
        for m in _WORD.finditer(text):
            start, end = m.span()
            word = text[start:end]
            if word[-2:] in ("'s", "\u2019s") and len(word) > 3:
                end -= 2
                word = word[:-2]
            before = text[start - 1] if start else ""
            after = text[end] if end < n else ""
            code = (
                (before in _CODE_BEFORE_ANY or after in _CODE_AFTER_ANY)
                and _code_neighbours(text, start, end)
            ) or (bool(code_regions) and _inside(code_regions, region_starts, start))
            # the common cases, decided without `_is_title` and `_case_changes`
            if word.isascii() and word.islower():
                tokens.append(_Token(start, end, word, word, False, False, code))
                continue
            if word.isascii() and word.isalpha() and word[0].isupper() and word[1:].islower():
                tokens.append(_Token(start, end, word, word.lower(), True, False, code))  # "Anna"
                continue
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
        folded = _fold(low)
        if folded != low:
            forms.append(folded)
        given = [*forms, *(f.split("-", 1)[0] for f in forms if "-" in f)]
        sur = [*forms, *(p for f in forms if "-" in f for p in f.split("-") if p)]
        return tuple(given), tuple(sur)

    def _is_given(self, token: _Token, *, loose: bool = False) -> bool:
        low = token.lower
        if low in UI_WORDS:
            return False
        names = self._all_given if loose else self._given
        if low.isascii() and "-" not in low:
            return low in names  # its only key
        return any(k in names for k in self._keys(token)[0])

    def _is_surname(self, token: _Token) -> bool:
        low = token.lower
        if low in UI_WORDS:
            return False
        if low.isascii() and "-" not in low:
            return low in self._surnames  # its only key
        return any(k in self._surnames for k in self._keys(token)[1])

    @staticmethod
    def _is_english(token: _Token) -> bool:
        if token.english is None:
            token.english = gazetteers.is_english_word(token.lower)
        return token.english

    def _plain_english(self, token: _Token) -> bool:
        low = token.lower
        return low in self._stop or low in UI_WORDS or self._is_english(token)

    def _unknown_word(self, token: _Token) -> bool:
        """No English, stop, UI or place word, letters only (3+), with a vowel: in lower
        case or ALL CAPS after a given name, a surname the lists do not have."""
        low = token.lower
        return (
            len(low) >= 3
            and low.isalpha()
            and any(c in _VOWELS for c in _fold(low))
            and not self._plain_english(token)
            and low not in _PARTICLES
            and low not in _FUNCTION_WORDS
            and low not in self._cities
            and low not in _ORG_WORDS
        )

    def _shape_ok(self, token: _Token, *, cased: bool) -> bool:
        """Title-case always; ALL CAPS / lower case only when `cased` is False (any_case)."""
        if token.code:
            return False
        if token.title:
            return True
        return not cased and self.options.any_case

    def _surname_like(
        self, token: _Token, *, cased: bool, distinctive: bool = False, lower_start: bool = False
    ) -> bool:
        """Whether a token can continue a name (middle name or surname). `distinctive`: the
        name started with a given name that is not an English word ("Ada", not "Julia")."""
        if not self._shape_ok(token, cased=cased):
            return False
        low = token.lower
        if low in UI_WORDS or low in self._stop:
            return False
        if not token.title:
            # lower/ALL CAPS: a known surname or given name that is not a common word, or
            # after a distinctive given name a word that is no word ("anna kallert")
            return (
                (self._is_surname(token) or self._is_given(token))
                and (low not in gazetteers.COMMON_WORDS or low in self._common_surnames)
            ) or (
                lower_start and distinctive and token.text.islower() and self._unknown_word(token)
            )
        if self._is_given(token):
            return True
        if self._is_english(token):
            return low in self._common_surnames or (distinctive and self._is_surname(token))
        return True

    # -- sequences ---------------------------------------------------------------------------

    def _extend(self, text: str, tokens: list[_Token], i: int, *, cased: bool) -> int:
        """Index of the last token of the name starting at tokens[i] (at least i)."""
        last = i
        j = i + 1
        count = 1
        distinctive = not self._is_english(tokens[i])
        lower_start = tokens[i].text.islower()
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
                    tokens[k], cased=cased, distinctive=distinctive, lower_start=lower_start
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
            if not self._surname_like(
                tok, cased=cased, distinctive=distinctive, lower_start=lower_start
            ):
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
                # After a title a capitalised word is a name even when it is also a word
                # ("Dr. Monteverdi", "Mr. Raven"), unless it is a stop or UI word.
                ok = tok.lower not in self._stop
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
        if not ok and strength in ("intro", "weak") and tok.title:
            # "I'm copying Thales O'Connor", "assigned to Gunar Walter": two or more words
            # shaped like a name
            last = self._run(text, tokens, i)
            if last > i and self._name_words(text, tokens, i, last, single=False):
                return self._finding(tokens, i, last)
        if not ok and strength in ("greet", "field", "strong"):
            strength = "field" if strength == "strong" else strength
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
        if any(_CONTRACTION.search(t.lower) for t in words):
            return None  # "Hi, I'm John Smith": the name follows "I'm", not "Hi"
        if any(t.lower in UI_WORDS or t.lower in self._stop for t in words):
            return None
        if not _VALUE_END.match(text, tokens[last].end):
            return None
        if strength == "greet" and len(words) == 1 and words[0].title:
            tok = words[0]
            # "Hello Senna,", "Thanks,\nThales": a capitalised word alone after a greeting
            # is a name unless it is a common word ("Hello World,", "Thanks,\nAll")
            if (
                self._is_given(tok, loose=True)
                or not self._plain_english(tok)
                or tok.lower not in gazetteers.COMMON_WORDS
            ):
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
        cues = _word_cue_matches(text) if opts.titles or opts.context else {}
        # The patterns that start with `(?m)^` are only tried at line starts.
        lines = _line_starts(text) if opts.context else []

        def cue(matches: Iterable[regex.Match[str]], strength: str) -> None:
            for m in matches:
                f = self._after_cue(text, tokens, index, m.end(), strength=strength)
                if f is not None:
                    found.append(f)

        if opts.titles:
            cue(cues[_TITLE_CUE], "title")
        if opts.context:
            cue(cues[_GREETING_STRONG], "strong")
            cue(cues[_INTRO_STRONG], "strong")
            cue(cues[_FIELD_STRONG], "strong")
            cue(_finditer_at(_SIGN_OFF, text, lines), "strong")
            cue(_finditer_at(_HEADING, text, lines), "field")
            cue(cues[_GREETING_WEAK], "greet")
            cue(cues[_SIGN_OFF_INLINE], "greet")
            cue(cues[_INTRO_WEAK], "intro")
            cue(cues[_FIELD_WEAK], "field")
            cue(cues[_TRANSFER], "field")
            cue(cues[_CALL_BACK], "weak")
            for m in cues[_LIST_FIELD]:
                line_end = text.find("\n", m.end())
                line_end = len(text) if line_end < 0 else line_end
                starts = [m.end()] + [x.end() for x in _LIST_SEP.finditer(text, m.end(), line_end)]
                for pos in starts:
                    f = self._after_cue(text, tokens, index, pos, strength="field")
                    if f is not None:
                        found.append(f)
            for pattern in (_SPEAKER, _PAREN_SPEAKER):
                for m in _finditer_at(pattern, text, lines):
                    if pattern is _PAREN_SPEAKER and tokens[index.get(m.end(), 0)].upper:
                        continue  # "Bank account (IBAN):" is a label
                    f = self._after_cue(text, tokens, index, m.end(), strength="weak")
                    if (
                        f is None
                        and pattern is _PAREN_SPEAKER
                        and (tok := tokens[index[m.end()]]).title
                        and (
                            self._is_given(tok, loose=True)
                            or self._is_surname(tok)
                            or self._name_words(
                                text, tokens, index[m.end()], index[m.end()], single=True
                            )
                        )
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
            found.extend(self._tables(text, tokens, index))
            found.extend(self._keyed(text, tokens, index, cues[_KEYED_VALUE], lines))
            found.extend(self._email_evidence(text, tokens))
            found.extend(self._verbs(text, tokens, index, cues))
            found.extend(self._contact_runs(text, tokens))
            found.extend(self._signature_lines(text, tokens, index, lines))
            found.extend(self._foreign_runs(text, tokens))
            found.extend(self._short_forms(text, tokens))
            found.extend(self._coordinated(text, tokens, index, found))
        if opts.lists:
            found.extend(self._pairs(text, tokens))
        found = [f for f in found if f.end > f.start]
        if found:
            found.extend(self._repeats(text, tokens, index, found))
        return merge_findings(found)

    def _repeats(
        self, text: str, tokens: list[_Token], index: dict[int, int], found: list[Finding]
    ) -> Iterable[Finding]:
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
            if low in gazetteers.COMMON_WORDS or self._is_english(tok):
                if tok.title and self._is_given(tok, loose=True):
                    wordy.add(low)
                continue
            names.add(low)
        if not names and not wordy:
            return
        for tok in tokens:
            if tok.code or not (tok.title or tok.upper or tok.mixed):
                continue
            if not (
                tok.lower in names
                or (tok.lower in wordy and tok.title and self._mid_or_speaker(text, tok))
            ):
                continue
            if self._in_address(text, tokens, index[tok.start]):
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
            if (tok.lower not in gazetteers.COMMON_WORDS and self._unknown_word(nxt)) or (
                self._is_surname(nxt)
                and nxt.lower not in self._stop
                and nxt.lower not in UI_WORDS
                and nxt.lower not in _PARTICLES
                # An English word ("style", "lines") only as a very common surname, and
                # a common word that is also a surname ("gay", "green") only in ALL CAPS.
                and (
                    not self._is_english(nxt)
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
            # tokens are disjoint and sorted, so their ends are sorted too
            lo = bisect.bisect_left(tokens, start, key=_token_start)
            inner = tokens[lo : bisect.bisect_right(tokens, m.end("name"), key=_token_end)]
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

    # -- structure, e-mail and verb rules --------------------------------------------------------

    def _run(self, text: str, tokens: list[_Token], i: int) -> int:
        """Last index of the run of cased words from tokens[i]: same line, single spaces,
        surname particles and initials inside ("Ram K. Gupta"), at most five words. Stops
        before UI and stop words."""
        last = i
        j = i + 1
        while j < len(tokens) and j - i < 6:
            prev = tokens[j - 1]
            gap = text[prev.end : tokens[j].start]
            initial = len(prev.text) == 1 and prev.text.isupper()
            if gap not in (" ", "\u00a0") and not (initial and gap == ". "):
                break
            tok = tokens[j]
            if tok.code:
                break
            if tok.lower in _PARTICLES and not tok.upper:
                j += 1
                continue
            if not (tok.title or tok.upper) or tok.lower in UI_WORDS or tok.lower in self._stop:
                break
            last = j
            j += 1
        return last

    def _name_words(
        self,
        text: str,
        tokens: list[_Token],
        i: int,
        last: int,
        *,
        single: bool,
        lax: bool = False,
    ) -> bool:
        """Whether tokens[i..last] look like a person's name on their shape: cased words
        that are not UI, stop, company, title or month words. Ordinary English words only
        as known given names or common surnames, unless `lax` (the field already says it
        is a person: then one word that is not English is enough). A single word needs
        `single` and must be a known given name or not an English word."""
        words = [t for t in tokens[i : last + 1] if t.lower not in _PARTICLES or t.upper]
        if not words or len(words) > 4 or tokens[last].lower in _PARTICLES:
            return False
        if not all(t.title or t.upper for t in words):
            return False
        for t in words:
            low = t.lower
            if t.code or low in UI_WORDS or low in self._stop or low in _ORG_WORDS:
                return False
            if low in _TITLE_WORDS or low in _MONTHS or low in _WEEKDAYS:
                return False
            if _CONTRACTION.search(low):
                return False  # "I'm", "We'll"
            if len(t.text) < 2 and (t is words[0] or t is words[-1]):
                return False
        if not lax and (words[0].lower in _PLACE_BEFORE or words[-1].lower in _PLACE_AFTER):
            return False  # "Lake Megan", "Oliver Court"
        nxt = tokens[last + 1] if last + 1 < len(tokens) else None
        if (
            nxt is not None
            and (nxt.lower in _ORG_WORDS or (nxt.title and nxt.lower in _PLACE_AFTER))
            and _COMMA_GAP.fullmatch(text[tokens[last].end : nxt.start])
        ):
            return False  # "Acme, Inc", "Nova Labs"
        if len(words) == 1:
            t = words[0]
            if not single or len(t.text) < 3:
                return False
            if t.lower in self._cities and not self._is_given(t):
                return False
            return self._is_given(t, loose=True) or not self._plain_english(t)
        if text[words[0].start : words[-1].end].lower() in self._cities:
            return False
        plain = [t for t in words if self._plain_english(t)]
        if not plain:
            return True
        if lax:
            return len(plain) < len(words) or (
                any(self._is_given(t, loose=True) for t in words)
                and not any(t.lower in gazetteers.COMMON_WORDS for t in words)
            )
        known = [t for t in words if self._is_given(t, loose=True) or self._is_surname(t)]
        if plain == words[:1] and self._is_surname(words[-1]) and not self._is_english(words[-1]):
            return True  # "Thales O'Connor": a word-like given name before a surname
        return bool(known) and all(
            t.lower in self._common_surnames or self._is_given(t, loose=True) for t in plain
        )

    def _value_name(
        self, text: str, tokens: list[_Token], index: dict[int, int], start: int, end: int
    ) -> Finding | None:
        """The name that fills a table cell, a keyed value or a field on its own, or None.
        Also "Last, First"."""
        while start < end and text[start] in " \t\"'`*_":
            start += 1
        while end > start and text[end - 1] in " \t\"'`*_.":
            end -= 1
        if end - start < 2 or start not in index:
            return None
        i = index[start]
        if "," in text[start:end]:
            f = self._last_first(text[:end], tokens, index, start)
            return f if f is not None and f.end == end else None
        last = self._run(text, tokens, i)
        while last > i and tokens[last].end > end:
            last -= 1
        if tokens[last].end != end:
            return None
        if not self._name_words(text, tokens, i, last, single=True, lax=True):
            return None
        return self._finding(tokens, i, last)

    def _tables(self, text: str, tokens: list[_Token], index: dict[int, int]) -> Iterable[Finding]:
        """Table columns under a header that names a person ("| Owner |", "Name,Email",
        "Customer\\tPhone"), two-cell label rows ("| Contact | Mei Tan |") and SQL INSERT
        column lists: the cells of such a column are names when they are name-shaped."""
        lines: list[tuple[int, int]] = []
        pos = 0
        for line in text.split("\n"):
            lines.append((pos, pos + len(line.rstrip("\r"))))
            pos += len(line) + 1
        k = 0
        while k < len(lines):
            s, e = lines[k]
            delim = _delimiter(text[s:e])
            if delim is None:
                k += 1
                continue
            cells = _cells(text, s, e, delim)
            if delim in "|\t":
                for c in range(len(cells) - 1):
                    if person_field(text[cells[c][0] : cells[c][1]]):
                        f = self._value_name(text, tokens, index, *cells[c + 1])
                        if f is not None:
                            yield f
            cols = [c for c, (cs, ce) in enumerate(cells) if person_field(text[cs:ce])]
            if not cols or (delim in ",;" and len(cells) < 3):
                k += 1
                continue
            r = k + 1
            while r < len(lines):
                rs, re_ = lines[r]
                row = text[rs:re_]
                if delim == "|" and row.strip() and _RULE_ROW.fullmatch(row):
                    r += 1
                    continue
                if _delimiter(row) != delim:
                    break
                row_cells = _cells(text, rs, re_, delim)
                if abs(len(row_cells) - len(cells)) > (0 if delim in ",;" else 1):
                    break
                for c in cols:
                    if c < len(row_cells):
                        f = self._value_name(text, tokens, index, *row_cells[c])
                        if f is not None:
                            yield f
                r += 1
            k = max(r, k + 1)
        for m in _SQL_INSERT.finditer(text):
            cols = [c for c, name in enumerate(m.group("cols").split(",")) if person_field(name)]
            if not cols:
                continue
            stop = text.find(";", m.end())
            stop = len(text) if stop < 0 else stop
            for tup in _SQL_TUPLE.finditer(text[: stop + 1], m.end()):
                cells = _cells(text, tup.start(1), tup.end(1), ",")
                for c in cols:
                    if c < len(cells):
                        f = self._value_name(text, tokens, index, *cells[c])
                        if f is not None:
                            yield f

    def _keyed(
        self,
        text: str,
        tokens: list[_Token],
        index: dict[int, int],
        keyed: list[regex.Match[str]],
        lines: list[int],
    ) -> Iterable[Finding]:
        """Values of keys and labels that name a person: `"assigned_to": "Mei Tan"`,
        `contactName=Mei Tan`, `<owner>Mei Tan</owner>`, "Account owner: Mei Tan",
        `?user=Mei+Tan`. `keyed`: the matches of `_KEYED_VALUE`; `lines`: line starts."""
        for matches in (keyed, _finditer_at(_LINE_LABEL, text, lines)):
            for m in matches:
                if not person_field(m.group("key")):
                    continue
                q = m.groupdict().get("q") or ""
                if q:
                    end = text.find(q, m.end())
                    if end < 0 or "\n" in text[m.end() : end]:
                        continue
                else:
                    cut = _VALUE_CUT.search(text, m.end())
                    end = cut.start() if cut else len(text)
                f = self._value_name(text, tokens, index, m.end(), end)
                if f is not None:
                    yield f
        for m in _XML_VALUE.finditer(text):
            if person_field(m.group("key").rsplit(":", 1)[-1]):
                f = self._value_name(text, tokens, index, m.start("value"), m.end("value"))
                if f is not None:
                    yield f
        for q in _QUERY_VALUE.finditer(text):
            key = q.group("key").lower()
            if not (person_field(key) or key in ("user", "u", "who", "by", "to", "from")):
                continue
            parts = [p for p in _QUERY_SEP.split(q.group("value")) if p]
            if not 2 <= len(parts) <= 4 or not all(_CAPITALISED.fullmatch(p) for p in parts):
                continue
            lows = [p.lower() for p in parts]
            if any(w in UI_WORDS or w in self._stop or w in _ORG_WORDS for w in lows):
                continue
            if all(gazetteers.is_english_word(w) for w in lows):
                continue
            yield Finding(ENTITY, q.start("value"), q.end("value"), self.options.score)

    def _email_evidence(self, text: str, tokens: list[_Token]) -> Iterable[Finding]:
        """Names whose words appear in an e-mail address of the same text: "Tanmayi Patla
        (tanmayi_patla68@x.org)", "you can reach Damini at damini_lad36@x.nl", a CRM row
        "| Amber Cammel | amber_cammel89@x.com |". A word of the address's local part
        ("tanmayi", "patla"; "atasso" also gives "tasso") marks that word as a name."""
        exact: set[str] = set()
        loose: set[str] = set()
        for m in _EMAIL.finditer(text):
            local = _fold(m.group("local"))
            for piece in _NON_LETTERS.split(local):
                if len(piece) >= 3:
                    exact.add(piece)
                    if len(piece) >= 6:
                        loose.add(piece[1:])  # "atasso": initial + surname
                        loose.add(piece[:-1])  # "tassoa": surname + initial
        if not exact:
            return
        exact -= UI_WORDS
        either = exact | loose
        n = len(tokens)
        k = 0
        while k < n:
            tok = tokens[k]
            if (
                tok.code
                or not (tok.title or tok.upper)
                or len(tok.text) < 3
                or _fold(tok.lower) not in either
                or tok.lower in self._stop
                or tok.lower in _ORG_WORDS
            ):
                k += 1
                continue
            # the run of name words around it
            first = k
            while first > 0 and k - first < 3:
                prev = tokens[first - 1]
                if (
                    text[prev.end : tokens[first].start] not in (" ", "\u00a0")
                    or prev.code
                    or not (prev.title or prev.upper)
                    or prev.lower in UI_WORDS
                    or prev.lower in self._stop
                    or _CONTRACTION.search(prev.lower) is not None
                    or (
                        self._plain_english(prev)
                        and _fold(prev.lower) not in exact
                        and not self._is_given(prev, loose=True)
                    )
                ):
                    break
                first -= 1
            last = self._run(text, tokens, k)
            while last > k and (
                self._plain_english(tokens[last])
                and _fold(tokens[last].lower) not in exact
                and not self._is_surname(tokens[last])
            ):
                last -= 1
            matched = sum(1 for t in tokens[first : last + 1] if _fold(t.lower) in either)
            adjacent = _CONTACT_AFTER.match(text, tokens[last].end) is not None
            ok = self._name_words(
                text, tokens, first, last, single=True, lax=matched >= 2 or adjacent
            )
            if ok and matched < 2 and self._plain_english(tok) and first == last:
                ok = False  # "Dawn" with dawn.x@... : a word, not enough on its own
            if ok:
                yield self._finding(tokens, first, last)
            k = last + 1

    def _verbs(
        self,
        text: str,
        tokens: list[_Token],
        index: dict[int, int],
        cues: dict[regex.Pattern[str], list[regex.Match[str]]],
    ) -> Iterable[Finding]:
        """Names next to verbs of people: "asked Tanvi", "thanks to Gaja Mikosz", "for Naksh
        Chana" (two words or more after a preposition), "Dan from the front desk said",
        "Tanvi wrote". `cues`: the matches of each word cue (`_word_cue_matches`)."""
        for pattern, single in ((_VERB_BEFORE, True), (_PREP_BEFORE, False)):
            for m in cues[pattern]:
                i = index.get(m.end())
                if i is None or tokens[i].code:
                    continue
                last = self._run(text, tokens, i)
                while (
                    last > i
                    and self._plain_english(tokens[last])
                    and not (
                        self._is_given(tokens[last], loose=True) or self._is_surname(tokens[last])
                    )
                ):
                    last -= 1
                if self._name_words(text, tokens, i, last, single=single):
                    yield self._finding(tokens, i, last)
        n = len(tokens)
        for k in range(n):
            tok = tokens[k]
            if tok.code or not (tok.title or tok.upper):
                continue
            if not _VERB_AFTER.match(text, tok.end):
                continue
            first = k
            while first > 0 and k - first < 3:
                prev = tokens[first - 1]
                if (
                    text[prev.end : tokens[first].start] != " "
                    or prev.code
                    or not (prev.title or prev.upper)
                    or prev.lower in UI_WORDS
                    or prev.lower in self._stop
                    or _CONTRACTION.search(prev.lower) is not None
                ):
                    break
                first -= 1
            while (
                first < k
                and self._plain_english(tokens[first])
                and not (
                    self._is_given(tokens[first], loose=True) or self._is_surname(tokens[first])
                )
            ):
                first += 1  # "Yesterday Tanvi said"
            if self._name_words(text, tokens, first, k, single=True):
                yield self._finding(tokens, first, k)

    def _contact_runs(self, text: str, tokens: list[_Token]) -> Iterable[Finding]:
        """Two or more name-shaped words right before an e-mail address or a phone number
        ("Gaja Hajder, +4915200487193", "Aishani Bhat on +91 94508 77420")."""
        k = 0
        n = len(tokens)
        while k < n:
            tok = tokens[k]
            if tok.code or not (tok.title or tok.upper):
                k += 1
                continue
            last = self._run(text, tokens, k)
            if _CONTACT_AFTER.match(text, tokens[last].end):
                first = k
                while (
                    first < last
                    and self._plain_english(tokens[first])
                    and not (
                        self._is_given(tokens[first], loose=True) or self._is_surname(tokens[first])
                    )
                ):
                    first += 1  # "Call Gaja Hajder, +49..."
                if last > first and self._name_words(text, tokens, first, last, single=False):
                    yield self._finding(tokens, first, last)
            k = last + 1

    def _coordinated(
        self, text: str, tokens: list[_Token], index: dict[int, int], found: list[Finding]
    ) -> Iterable[Finding]:
        """Names listed with a name already found: "Lata Pillai, Gaja Hajder and Raf
        Michiels" (two or more name-shaped words, or a known given name)."""
        spans = sorted({(f.start, f.end) for f in found})
        ends = {t.end: j for j, t in enumerate(tokens)}
        seen = set(spans)
        queue = list(spans)
        while queue:
            start, end = queue.pop()
            cands: list[int] = []
            m = _COORD.match(text, end)
            if m is not None and m.end() in index:
                cands.append(index[m.end()])
            line_start = text.rfind("\n", 0, start) + 1
            b = _COORD_BEFORE.search(text, max(line_start, start - 6), start)
            if b is not None:
                k = ends.get(b.start())
                if k is not None:
                    first = k
                    while first > 0 and k - first < 3:
                        prev = tokens[first - 1]
                        if text[prev.end : tokens[first].start] != " " or not (
                            prev.title or prev.upper
                        ):
                            break
                        first -= 1
                    cands.append(first)
            for i in cands:
                tok = tokens[i]
                if tok.code or not (tok.title or tok.upper):
                    continue
                last = self._run(text, tokens, i)
                ok = self._name_words(text, tokens, i, last, single=False) or (
                    last == i and tok.title and self._is_given(tok)
                )
                span = (tokens[i].start, tokens[last].end)
                if ok and span not in seen and "\n" not in text[span[0] : span[1]]:
                    seen.add(span)
                    queue.append(span)
                    yield Finding(ENTITY, span[0], span[1], self.options.score)

    def _signature_lines(
        self, text: str, tokens: list[_Token], index: dict[int, int], lines: list[int]
    ) -> Iterable[Finding]:
        """A line that holds only a name of two to four words, with an e-mail address or a
        phone number on one of the next three lines: a signature or contact block
        ("Catarina Martins\nAccount Executive, Umbra Health\ncatarina.m@x.com"). `lines`:
        line starts."""
        for m in _finditer_at(_NAME_LINE, text, lines):
            i = index.get(m.start("name"))
            if i is None:
                continue
            last = self._run(text, tokens, i)
            if tokens[last].end != m.end("name") or last == i:
                continue
            after = text[m.end() : m.end() + 240].split("\n")[1:4]
            if not any(_CONTACT_LINE.search(line) for line in after):
                continue
            if self._name_words(text, tokens, i, last, single=False):
                yield self._finding(tokens, i, last)

    def _surname_first(self, token: _Token) -> bool:
        """A token that can be a surname written before the given name: a known surname
        that is not an ordinary word (or is a very common surname), or an unknown
        title-case word; not a place ("Paris, Charlotte" is read as a place)."""
        low = token.lower
        if token.code or low in UI_WORDS or low in self._stop or low in _PARTICLES:
            return False
        if len(token.text) < 2 or (low in self._cities and not self._is_surname(token)):
            return False
        if self._is_surname(token):
            return not self._plain_english(token) or low in self._common_surnames
        return token.title and not self._plain_english(token) and low not in _ORG_WORDS

    def _short_forms(self, text: str, tokens: list[_Token]) -> Iterable[Finding]:
        """Names written short or inverted, whatever the context: "Wade, Margaret" (a
        surname, a comma, a known given name), "E. Wilson" (an initial and a known
        surname), "Tobiasz B." (a known given name and an initial)."""
        any_case = self.options.any_case
        for i in range(len(tokens) - 1):
            tok, nxt = tokens[i], tokens[i + 1]
            if tok.code or nxt.code:
                continue
            gap = text[tok.end : nxt.start]
            if gap == ", " and self._is_given(nxt) and nxt.lower not in self._cities:
                same_shape = (tok.title and nxt.title) or (
                    any_case and tok.upper == nxt.upper and not (tok.title or nxt.title)
                )
                if (
                    same_shape
                    and self._surname_first(tok)
                    and (tok.title or self._is_surname(tok))
                    and not self._listed(text, tokens, i)
                ):
                    yield Finding(ENTITY, tok.start, nxt.end, self.options.score)
            elif (
                gap == ". "
                and len(tok.text) == 1
                and tok.text.isupper()
                and text[tok.start - 1 : tok.start] != "."  # "U.S. Army"
                and tok.lower not in _TITLE_WORDS  # "M. Dupont": the title rule has it
                and nxt.title
                and self._is_surname(nxt)
                and (not self._plain_english(nxt) or nxt.lower in self._common_surnames)
            ):
                last = self._extend(text, tokens, i + 1, cased=True)
                yield Finding(ENTITY, tok.start, tokens[last].end, self.options.score)
            elif (
                gap == " "
                and tok.title
                and len(nxt.text) == 1
                and nxt.text.isupper()
                and text[nxt.end : nxt.end + 1] == "."
                and not text[nxt.end + 1 : nxt.end + 3].strip(" ")[:1].isupper()
                and self._is_given(tok)
            ):
                yield Finding(ENTITY, tok.start, nxt.end + 1, self.options.score)

    @staticmethod
    def _listed(text: str, tokens: list[_Token], i: int) -> bool:
        """tokens[i] is an item of an enumeration of capitalised words ("Apples, Pears,
        Plums"): a comma-separated list continues after the pair."""
        if i + 2 >= len(tokens):
            return False
        after = text[tokens[i + 1].end : tokens[i + 2].start]
        return after == ", " and tokens[i + 2].title and tokens[i + 2].end - tokens[i + 2].start > 1

    def _foreign_runs(self, text: str, tokens: list[_Token]) -> Iterable[Finding]:
        """Two or three capitalised words in a row, none an English, UI or company word
        and none a place, at least one a known given name or surname ("Gaja Mikosz",
        "Naksh Chana" with "Chana" a known name): names whatever the context."""
        k = 0
        n = len(tokens)
        while k < n:
            tok = tokens[k]
            if tok.code or not tok.title:
                k += 1
                continue
            last = self._run(text, tokens, k)
            words = [t for t in tokens[k : last + 1] if t.lower not in _PARTICLES]
            if (
                2 <= len(words) <= 3
                and all(t.title and len(t.text) >= 2 for t in words)
                and not any(self._plain_english(t) for t in words)
                and not any(t.lower in self._cities or t.lower in _ORG_WORDS for t in words)
                and not (k and text[tokens[k - 1].end : tok.start] == " " and tokens[k - 1].title)
                and not _PLACE_CONTEXT.search(text, max(0, tok.start - 40), tok.start)
                and self._name_words(text, tokens, k, last, single=False)
            ):
                yield self._finding(tokens, k, last)
            k = last + 1


# A contact detail right after a name: "Gaja Hajder, +4915200487193", "Aishani Bhat on
# +91 94508 77420", "Mei Tan (mei@x.org)", "Mei Tan <mei@x.org>".
_VOWELS = frozenset("aeiouy")
# Conjunctions and prepositions of the other languages names come in ("anna und ben").
_FUNCTION_WORDS = word_set(
    """
    und oder mit für bei aus nach vom zum zur et ou avec pour chez sur dans une con para
    por sin entre una ed per con tra fra nel che met voor naar bij het een ook com sem
    uma pelo pela
    """
)
_CONTACT_AFTER = regex.compile(
    r"[ \t]*(?:[,(<\[:\-\u2013|/][ \t]*|[ \t]+(?:on|at|via|tel\.?|phone|mobile|cell|"
    r"e-?mail)[ \t:]+)(?:mailto:)?(?:[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+\.[\p{L}]|"
    r"\+?\(?\d[\d \-().]{6,}\d)"
)
_NAME_LINE = regex.compile(r"(?m)^[ \t>*_-]*(?P<name>\p{Lu}[^\n\d,;:|()@<>]{2,60}?)[ \t*_]*$")
_CONTACT_LINE = regex.compile(
    r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+\.[\p{L}]|(?:\+|\b0)\(?\d[\d \-().]{6,}\d"
)
# Right before a place: a postcode or house number, or a place key ("city": "...").
_PLACE_CONTEXT = regex.compile(
    r"(?:\d[ \t]*,?|(?i:city|town|place|village|address|location|street|region|province|"
    r"county|state|country|district|municipality|comune|ort|stadt|ville|ciudad|"
    r"citt\u00e0|born[ \t]+in|lives[ \t]+in|based[ \t]+in|located[ \t]+in|near|in)"
    r"[\"']?[ \t]*[:=]?[ \t]*[\"']?)[ \t]*$"
)
_CONTRACTION = regex.compile(r"['\u2019](?:m|re|ve|ll|d|t)$|n['\u2019]t$")
_COORD = regex.compile(r"[ \t]*(?:,|;|[ \t]and|[ \t]&|[ \t]or)[ \t]+(?=\p{Lu})")
_COORD_BEFORE = regex.compile(r"(?:,|;|[ \t]and|[ \t]&|[ \t]or)[ \t]+$")

_WEEKDAYS: frozenset[str] = word_set(
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun"
)
# Where an unquoted field value ends: a delimiter, a wide gap or a word that starts a
# clause ("Verified by: Raf Michiels on 21/07/2023").
_VALUE_CUT = regex.compile(
    r"[,;&|()<>\[\]{}\n\r]|[ \t]{2,}|[ \t]-[ \t]|[ \t](?:on|at|via|for|in|from|since|until|"
    r"who|is|was|has|will|and|or|to)(?![\p{L}\p{N}_])|\.(?:[ \t]|$)"
)


def _delimiter(line: str) -> str | None:
    """The cell delimiter of a table row: "|" (Markdown), a tab, "," or ";" (CSV)."""
    if line.count("|") >= 2:
        return "|"
    if "\t" in line.strip():
        return "\t"
    for d in (",", ";"):
        if line.count(d) >= 2 and not _SENTENCE_BREAK.search(line):
            return d
    return None


def _cells(text: str, start: int, end: int, delim: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of the row text[start:end] (quotes respected for CSV;
    the outer pipes of a Markdown row dropped)."""
    cells: list[tuple[int, int]] = []
    quote = ""
    cell = start
    for p in range(start, end):
        ch = text[p]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'" and delim in ",;" and text[cell:p].strip() == "":
            quote = ch
        elif ch == delim:
            cells.append((cell, p))
            cell = p + 1
    cells.append((cell, end))
    if delim == "|":
        if cells and not text[cells[0][0] : cells[0][1]].strip():
            cells = cells[1:]
        if cells and not text[cells[-1][0] : cells[-1][1]].strip():
            cells = cells[:-1]
    return cells
