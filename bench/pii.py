"""Synthetic but format-valid PII values for the benchmark corpus.

Every value is drawn from the `random.Random` it is given, so a seed fixes the corpus. Numbers
pass the checks real validators run (Luhn, IBAN mod-97 plus the national check digits of FR, ES
and NL, SSA area/group/serial rules, libphonenumber validity), because a detector that verifies
checksums would otherwise skip them and the benchmark would under-count its work. Never emits a
real person's data on purpose: names and numbers are recombined at random.
"""

from __future__ import annotations

import ipaddress
import random
import unicodedata
from dataclasses import dataclass

from sidecar import checksums
from sidecar.checksums import spanish_ccc_control

__all__ = [
    "Person",
    "card_number",
    "city",
    "date_text",
    "email_for",
    "iban",
    "ipv4",
    "ipv6",
    "luhn_valid",
    "person",
    "phone",
    "profile_url",
    "ssn",
    "street",
    "url",
]

# First and last names by culture; a person takes both from one culture so names stay plausible.
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "us": (
        ("James", "Mary", "Robert", "Jennifer", "Michael", "Linda", "David", "Emily", "Tyler"),
        ("Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Anderson", "Thompson"),
    ),
    "ie": (
        ("Siobhán", "Ciarán", "Aoife", "Seán", "Niamh", "Pádraig", "Róisín"),
        ("O'Connor", "Murphy", "Kelly", "O'Sullivan", "Walsh", "McCarthy", "Byrne"),
    ),
    "es": (
        ("José", "María", "Alejandro", "Lucía", "Javier", "Carmen", "Sofía", "Andrés"),
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro"),
    ),
    "de": (
        ("Jürgen", "Anna", "Lukas", "Katrin", "Maximilian", "Sabine", "Jörg", "Lena"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Köhler"),
    ),
    "fr": (
        ("Élodie", "Jean-Luc", "Camille", "François", "Chloé", "Étienne", "Margaux"),
        ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine"),
    ),
    "nl": (
        ("Daan", "Sanne", "Joost", "Femke", "Bram", "Lotte", "Maarten"),
        ("de Vries", "van Dijk", "Bakker", "Jansen", "Visser", "van der Berg", "Smit"),
    ),
    "in": (
        ("Priya", "Rahul", "Ananya", "Arjun", "Deepika", "Vikram", "Sunita", "Rohan"),
        ("Sharma", "Patel", "Reddy", "Iyer", "Gupta", "Nair", "Chatterjee", "Singh"),
    ),
    "cn": (
        ("Wei", "Xiaoling", "Jun", "Mei", "Hao", "Yan", "Zhiwei", "Li Na"),
        ("Wang", "Zhang", "Chen", "Liu", "Huang", "Zhao", "Wu", "Zhou"),
    ),
    "jp": (
        ("Haruto", "Yui", "Sota", "Aoi", "Ren", "Sakura", "Kenji", "Yuki"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Nakamura"),
    ),
    "kr": (
        ("Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Dong-hyun", "Soo-ah"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Yoon"),
    ),
    "vn": (
        ("Minh", "Linh", "Tuấn", "Hương", "Quang", "Thảo"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"),
    ),
    "ar": (
        ("Mohammed", "Fatima", "Omar", "Layla", "Youssef", "Aisha", "Karim", "Noor"),
        ("Al-Sayed", "Haddad", "Khalil", "Mansour", "Nasser", "El-Amin", "Farouk"),
    ),
    "ng": (
        ("Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Emeka", "Funmilayo", "Tunde"),
        ("Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Ogunleye", "Nwosu"),
    ),
    "pl": (
        ("Łukasz", "Agnieszka", "Piotr", "Małgorzata", "Krzysztof", "Zofia"),
        ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Zieliński"),
    ),
    "br": (
        ("João", "Ana", "Thiago", "Beatriz", "Gabriel", "Larissa", "Rafael"),
        ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Carvalho", "Gonçalves"),
    ),
    "se": (
        ("Erik", "Astrid", "Björn", "Ingrid", "Lars", "Sigrid"),
        ("Andersson", "Johansson", "Lindqvist", "Nyström", "Bergström", "Holm"),
    ),
}

_CITIES = (
    "New York", "Chicago", "Austin", "Seattle", "San Francisco", "Boston", "Denver",
    "Atlanta", "Toronto", "Vancouver", "London", "Manchester", "Dublin", "Edinburgh",
    "Berlin", "München", "Hamburg", "Köln", "Paris", "Lyon", "Marseille", "Amsterdam",
    "Rotterdam", "Utrecht", "Madrid", "Barcelona", "Sevilla", "Lisbon", "São Paulo",
    "Rio de Janeiro", "Mexico City", "Bogotá", "Buenos Aires", "Lagos", "Nairobi", "Cairo",
    "Dubai", "Mumbai", "Bengaluru", "New Delhi", "Singapore", "Tokyo", "Osaka", "Seoul",
    "Shanghai", "Hanoi", "Sydney", "Melbourne", "Kraków", "Warsaw", "Zürich", "Stockholm",
)  # fmt: skip

_US_STREETS = ("Maple", "Oak", "Cedar", "Elm", "Washington", "Lake", "Hillcrest", "Sunset")
_US_SUFFIXES = ("Street", "Avenue", "Boulevard", "Drive", "Lane", "Road", "Court")
_UK_STREETS = ("Church", "Station", "Victoria", "Park", "Mill", "Queens", "Albert")
_DE_STREETS = ("Haupt", "Linden", "Goethe", "Schiller", "Bahnhof", "Garten", "Berg")
_FR_STREETS = ("de la République", "Victor Hugo", "du Faubourg Saint-Denis", "des Lilas")

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_MAIL_HOSTS = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "icloud.com", "proton.me",
    "web.de", "gmx.net", "orange.fr", "ziggo.nl", "telefonica.es", "rediffmail.com",
)  # fmt: skip
_COMPANY_HOSTS = ("northwind.io", "acme-corp.com", "contoso.net", "globex.co", "initech.dev")


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic person: a first and a last name from the same culture."""

    first: str
    last: str
    culture: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def person(rng: random.Random) -> Person:
    culture = rng.choice(sorted(_NAMES))
    firsts, lasts = _NAMES[culture]
    return Person(rng.choice(firsts), rng.choice(lasts), culture)


def _ascii_slug(text: str) -> str:
    """Mailbox-safe form of a name: accents dropped, spaces and apostrophes removed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-")


def email_for(rng: random.Random, who: Person) -> str:
    first, last = _ascii_slug(who.first), _ascii_slug(who.last)
    style = rng.randrange(5)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first[0]}{last}{rng.randrange(1, 99)}"
    elif style == 2:
        local = f"{first}_{last}"
    elif style == 3:
        local = f"{last}.{first}"
    else:
        local = f"{first}{rng.randrange(1970, 2006)}"
    host = rng.choice(_COMPANY_HOSTS) if rng.random() < 0.3 else rng.choice(_MAIL_HOSTS)
    return f"{local}@{host}"


def profile_url(rng: random.Random, who: Person) -> str:
    first, last = _ascii_slug(who.first), _ascii_slug(who.last)
    return rng.choice(
        (
            f"https://www.linkedin.com/in/{first}-{last}-{rng.randrange(100, 999)}",
            f"https://github.com/{first[0]}{last}",
            f"https://calendly.com/{first}{last}/30min",
            f"https://twitter.com/{first}_{last}",
        )
    )


def url(rng: random.Random) -> str:
    host = rng.choice(_COMPANY_HOSTS)
    return rng.choice(
        (
            f"https://portal.{host}/account/{rng.randrange(10**5, 10**6)}?ref=email",
            f"https://{host}/reset-password?token={rng.getrandbits(64):016x}",
            f"http://intranet.{host.split('.')[0]}.local/tickets/{rng.randrange(1000, 99999)}",
            f"https://docs.{host}/guides/getting-started#step-{rng.randrange(1, 9)}",
            f"https://www.{host}/orders/track?id={rng.randrange(10**7, 10**8)}",
            "https://docs.python.org/3/library/asyncio-task.html",
        )
    )


def _us_phone(rng: random.Random) -> str:
    area = rng.choice((201, 206, 212, 305, 312, 404, 415, 503, 512, 617, 646, 702, 720, 919))
    while True:
        exchange = rng.randrange(201, 1000)
        # N11 codes are service numbers and 555 is mostly reserved: neither is a subscriber.
        if exchange % 100 != 11 and exchange != 555:
            break
    line = rng.randrange(10000)
    return rng.choice(
        (
            f"({area}) {exchange}-{line:04d}",
            f"{area}-{exchange}-{line:04d}",
            f"{area}.{exchange}.{line:04d}",
            f"+1 {area} {exchange} {line:04d}",
            f"+1-{area}-{exchange}-{line:04d}",
        )
    )


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _intl_phone(rng: random.Random) -> str:
    country = rng.choice(("gb", "de", "fr", "nl", "es", "in", "br", "au", "jp"))
    d = _digits
    if country == "gb":
        return rng.choice(
            (f"+44 20 7{d(rng, 3)} {d(rng, 4)}", f"+44 7{rng.choice('489')}{d(rng, 2)} {d(rng, 6)}")
        )
    if country == "de":
        return rng.choice(
            (
                f"+49 30 {rng.randrange(2, 9)}{d(rng, 7)}",
                f"+49 151 {rng.randrange(1, 9)}{d(rng, 7)}",
            )
        )
    if country == "fr":
        pairs = " ".join(d(rng, 2) for _ in range(4))
        return f"+33 {rng.choice('146')} {rng.randrange(1, 6)}{pairs[1:]}"
    if country == "nl":
        return rng.choice(
            (
                f"+31 20 {rng.randrange(2, 9)}{d(rng, 2)} {d(rng, 4)}",
                f"+31 6 {rng.randrange(1, 6)}{d(rng, 3)} {d(rng, 4)}",
            )
        )
    if country == "es":
        return rng.choice(
            (
                f"+34 91{rng.randrange(2, 9)} {d(rng, 3)} {d(rng, 3)}",
                f"+34 6{d(rng, 2)} {d(rng, 3)} {d(rng, 3)}",
            )
        )
    if country == "in":
        return f"+91 {rng.randrange(7, 10)}{d(rng, 4)} {d(rng, 5)}"
    if country == "br":
        return f"+55 11 9{rng.randrange(6, 10)}{d(rng, 3)}-{d(rng, 4)}"
    if country == "au":
        return f"+61 4{rng.choice(('01', '12', '23', '38', '55'))} {d(rng, 3)} {d(rng, 3)}"
    return f"+81 3-{rng.randrange(3, 7)}{d(rng, 3)}-{d(rng, 4)}"


def phone(rng: random.Random) -> str:
    """A subscriber number, US formats about 60% of the time, else international."""
    return _us_phone(rng) if rng.random() < 0.6 else _intl_phone(rng)


def luhn_valid(number: str) -> bool:
    return checksums.luhn_valid("".join(ch for ch in number if ch.isdigit()))


def _with_check_digit(body: str) -> str:
    return next(body + check for check in "0123456789" if luhn_valid(body + check))


def card_number(rng: random.Random) -> str:
    """A Luhn-valid Visa, Mastercard, Amex or Discover number in a common written form."""
    brand = rng.choice(("visa", "visa", "mastercard", "mastercard", "amex", "discover"))
    if brand == "visa":
        prefix, length = "4", 16
    elif brand == "mastercard":
        prefix, length = (
            rng.choice((str(rng.randrange(51, 56)), str(rng.randrange(2221, 2721)))),
            16,
        )
    elif brand == "amex":
        prefix, length = rng.choice(("34", "37")), 15
    else:
        prefix, length = "6011", 16
    number = _with_check_digit(prefix + _digits(rng, length - len(prefix) - 1))
    groups = (4, 6, 5) if length == 15 else (4, 4, 4, 4)
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    separator = rng.choice(("", " ", " ", "-"))
    return separator.join(parts)


def ssn(rng: random.Random) -> str:
    """An SSN the SSA could issue: area 001-899 except 666, group 01-99, serial 0001-9999."""
    while True:
        area = rng.randrange(1, 900)
        if area == 666:
            continue
        text = f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"
        if len(set(text.replace("-", ""))) > 1:
            break
    return text if rng.random() < 0.85 else text.replace("-", " ")


def _alnum_to_digits(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def _bban(rng: random.Random, country: str) -> str:
    if country == "DE":
        bank = rng.choice(("10070000", "37040044", "50010517", "70150000", "12030000"))
        return bank + _digits(rng, 10)
    if country == "GB":
        bank, sort_prefix = rng.choice((("NWBK", "60"), ("BARC", "20"), ("MIDL", "40")))
        return bank + sort_prefix + _digits(rng, 4) + _digits(rng, 8)
    if country == "FR":
        bank = rng.choice(("30004", "30003", "20041", "30002", "10278"))
        branch, account = _digits(rng, 5), _digits(rng, 11)
        # RIB key: 97 - (89*bank + 15*branch + 3*account) mod 97, per the French RIB standard.
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"
    if country == "NL":
        bank = rng.choice(("ABNA", "INGB", "RABO", "TRIO", "SNSB"))
        while True:  # the old Dutch "elfproef": digit-weighted sum divisible by 11
            account = _digits(rng, 10)
            if sum(int(d) * (10 - i) for i, d in enumerate(account)) % 11 == 0:
                return bank + account
    bank = rng.choice(("2100", "0049", "0182", "0081", "2085"))
    branch, account = _digits(rng, 4), _digits(rng, 10)
    control = f"{spanish_ccc_control('00' + bank + branch)}{spanish_ccc_control(account)}"
    return bank + branch + control + account


def iban(rng: random.Random) -> str:
    """A mod-97-valid IBAN for DE, GB, FR, NL or ES, electronic or grouped print format."""
    country = rng.choice(("DE", "GB", "FR", "NL", "ES"))
    bban = _bban(rng, country)
    check = 98 - int(_alnum_to_digits(bban + country + "00")) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return value
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def ipv4(rng: random.Random) -> str:
    if rng.random() < 0.25:  # logs are full of private addresses too
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    while True:
        first = rng.randrange(1, 224)
        if first not in (10, 127):
            break
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def ipv6(rng: random.Random) -> str:
    groups = [rng.choice((0x2001, 0x2A00, 0x2A02, 0x2600, 0x2604, 0x2409))]
    groups += [rng.randrange(0x10000) for _ in range(7)]
    if rng.random() < 0.5:  # a zero run, so the compressed "::" form shows up
        start = rng.randrange(2, 6)
        for index in range(start, start + rng.randrange(2, 4)):
            groups[index] = 0
    address = ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
    return address.compressed if rng.random() < 0.7 else address.exploded


def city(rng: random.Random) -> str:
    return rng.choice(_CITIES)


def street(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        number = rng.randrange(1, 9999)
        return f"{number} {rng.choice(_US_STREETS)} {rng.choice(_US_SUFFIXES)}"
    if style == 1:
        return f"{rng.randrange(1, 250)} {rng.choice(_UK_STREETS)} Road"
    if style == 2:
        return f"{rng.choice(_DE_STREETS)}straße {rng.randrange(1, 120)}"
    return f"{rng.randrange(1, 180)} rue {rng.choice(_FR_STREETS)}"


def date_text(rng: random.Random, *, first_year: int, last_year: int, timed: bool = False) -> str:
    """A calendar date in one of several common formats; `timed` also allows a time of day."""
    year = rng.randrange(first_year, last_year + 1)
    month, day = rng.randrange(1, 13), rng.randrange(1, 29)
    style = rng.randrange(6 if timed else 5)
    if style == 0:
        return f"{_MONTHS[month - 1]} {day}, {year}"
    if style == 1:
        return f"{day} {_MONTHS[month - 1]} {year}"
    if style == 2:
        return f"{year}-{month:02d}-{day:02d}"
    if style == 3:
        return f"{month:02d}/{day:02d}/{year}"
    if style == 4:
        return f"{day:02d}.{month:02d}.{year}"
    return f"{_MONTHS[month - 1][:3]} {day} {year} at {rng.randrange(8, 18)}:{rng.choice('0134')}0"
