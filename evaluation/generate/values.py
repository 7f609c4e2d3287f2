"""Synthetic people and their personal values, drawn from Faker and checksum-valid ids.

A `Persona` draws each value on first use and keeps it, so `{{name}}` and `{{email}}` in one
template belong to one person. All randomness comes from the document's `random.Random`; Faker
instances are cached per locale but re-seeded from that generator before every use, so a value
never depends on what earlier documents drew. Names, numbers and addresses are recombined at
random: none is meant to belong to a real person.
"""

from __future__ import annotations

import ipaddress
import random
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

import phonenumbers
from faker import Faker

from evaluation.generate import ids

__all__ = ["NAME_LOCALES", "PERSONA_SLOTS", "Persona", "Piece", "ascii_slug", "date_text"]

# A run of text and its entity ("" for unlabelled text between parts of one slot).
Piece = tuple[str, str]

NAME_LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL", "en_IN",
)  # fmt: skip
_ADDRESS_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "en_CA")
_PHONE_REGION = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "es_ES": "ES"}
_PHONE_REGION |= {"en_IN": "IN", "pt_BR": "BR", "en_CA": "US"}
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IN", "BR")

# Names that are also common English words or template words ("Will", "Mark", "Price"): the
# generator would re-draw on them anyway, this only saves the attempts.
_WORDLIKE = frozenset(
    (
        "will", "mark", "grant", "bill", "rose", "hope", "june", "may", "summer", "jasmine",
        "price", "long", "young", "king", "hall", "bell", "page", "rich", "love", "case", "ward",
        "wells", "hill", "fields", "field", "banks", "rivers", "stone", "wood", "woods", "lane",
        "day", "way", "best", "dean", "chase", "miles", "cook", "hunter", "mason", "porter",
        "chance", "art", "major", "sharp", "north", "west", "green", "brown", "white", "black",
        "gray", "grey", "park", "street", "church", "mill", "ball", "bird", "fox", "moss", "reed",
        "bush", "cash", "gold", "silver", "short", "little", "more", "frank", "earl", "duke",
        "prince", "joy", "faith",
    )
)  # fmt: skip
_PARTICLES = frozenset(("van", "der", "den", "de", "la", "von", "di", "da", "del", "le", "dos"))
_SPECIAL_LASTS = (
    "O'Brien", "O'Connor", "D'Angelo", "D'Souza", "N'Diaye", "O'Sullivan", "McAllister",
    "van der Berg", "de la Cruz", "von Weber", "di Stefano", "da Silva", "van Dijk",
    "Nguyễn", "Þórsdóttir", "Müller-Lüdenscheidt", "García-Márquez", "Okonkwo-Adeyemi",
)  # fmt: skip
_MAIL_HOSTS = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "icloud.com", "proton.me",
    "web.de", "gmx.net", "orange.fr", "ziggo.nl", "libero.it", "rediffmail.com", "uol.com.br",
    "example.com", "mail.example.org",
)  # fmt: skip
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def ascii_slug(text: str) -> str:
    """Mailbox-safe form of a name: accents dropped, spaces and apostrophes removed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def date_text(rng: random.Random, day: date) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == 1:
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    if style == 2:
        return day.isoformat()
    if style == 3:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    if style == 4:
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


class _Fakers:
    """One Faker per locale, built once (building one takes ~20 ms), seeded before each use."""

    def __init__(self) -> None:
        self._by_locale: dict[str, Faker] = {}

    def seeded(self, locale: str, rng: random.Random) -> Faker:
        fake = self._by_locale.get(locale)
        if fake is None:
            fake = self._by_locale[locale] = Faker(locale)
        fake.seed_instance(rng.getrandbits(48))
        return fake


_FAKERS = _Fakers()


def _name_ok(name: str) -> bool:
    words = name.replace("-", " ").split()
    return bool(words) and all(
        w.lower() in _PARTICLES or (len(w) >= 3 and w.lower() not in _WORDLIKE) for w in words
    )


class Persona:
    """One synthetic person; values are drawn lazily, then fixed for the document."""

    def __init__(self, rng: random.Random, locale: str | None = None) -> None:
        self.rng = rng
        self.locale = locale or rng.choice(NAME_LOCALES)
        self.female = rng.random() < 0.5
        self._cache: dict[str, tuple[Piece, ...]] = {}
        self._born: date | None = None

    def pieces(self, slot: str) -> tuple[Piece, ...]:
        """The labelled pieces of `slot` (see SLOTS); raises KeyError for an unknown slot."""
        if slot not in self._cache:
            self._cache[slot] = _SLOTS[slot](self)
        return self._cache[slot]

    def value(self, slot: str) -> str:
        return "".join(text for text, _ in self.pieces(slot))

    # --- names ---------------------------------------------------------------------------

    def _names(self) -> tuple[str, str]:
        rng = self.rng
        for _ in range(50):
            fake = _FAKERS.seeded(self.locale, rng)
            first = fake.first_name_female() if self.female else fake.first_name_male()
            last = fake.last_name()
            roll = rng.random()
            if roll < 0.08:
                last = f"{last}-{fake.last_name()}"
            elif roll < 0.16:
                last = rng.choice(_SPECIAL_LASTS)
            if _name_ok(first) and _name_ok(last):
                return first, last
        raise RuntimeError(f"no usable name for locale {self.locale}")

    def _first(self) -> tuple[Piece, ...]:
        return ((self._names_cached()[0], "PERSON"),)

    def _last(self) -> tuple[Piece, ...]:
        return ((self._names_cached()[1], "PERSON"),)

    def _names_cached(self) -> tuple[str, str]:
        if "_names" not in self._cache:
            first, last = self._names()
            self._cache["_names"] = ((first, ""), (last, ""))
        (first, _), (last, _) = self._cache["_names"]
        return first, last

    def _full(self) -> tuple[Piece, ...]:
        first, last = self._names_cached()
        return ((f"{first} {last}", "PERSON"),)

    def _full_lower(self) -> tuple[Piece, ...]:
        return ((self.value("name").lower(), "PERSON"),)

    def _full_upper(self) -> tuple[Piece, ...]:
        return ((self.value("name").upper(), "PERSON"),)

    def _last_first(self) -> tuple[Piece, ...]:
        first, last = self._names_cached()
        return ((f"{last}, {first}", "PERSON"),)

    # --- contact -------------------------------------------------------------------------

    def _email(self) -> tuple[Piece, ...]:
        rng = self.rng
        first, last = (ascii_slug(n) for n in self._names_cached())
        local = rng.choice(
            (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}_{last}{rng.randrange(1, 99)}",
                f"{last}.{first}",
                f"{first}{rng.randrange(1960, 2006)}",
                f"{first}.{last[0]}",
            )
        )
        return ((f"{local}@{rng.choice(_MAIL_HOSTS)}", "EMAIL_ADDRESS"),)

    def _phone(self) -> tuple[Piece, ...]:
        rng = self.rng
        region = _PHONE_REGION.get(self.locale) or rng.choice(_PHONE_REGIONS)
        number = _phone_number(rng, region)
        style = rng.choice(
            (
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.E164,
            )
        )
        return ((phonenumbers.format_number(number, style), "PHONE_NUMBER"),)

    def _profile(self) -> tuple[Piece, ...]:
        rng = self.rng
        first, last = (ascii_slug(n) for n in self._names_cached())
        url = rng.choice(
            (
                f"https://www.linkedin.com/in/{first}-{last}-{rng.randrange(10**5, 10**6):x}",
                f"https://linkedin.com/in/{first}{last}",
                f"https://github.com/{first[0]}{last}",
                f"https://github.com/{first}-{last}{rng.randrange(10, 99)}",
                f"https://{first}{last}.dev",
                f"https://www.{first}-{last}.me/about",
            )
        )
        return ((url, "URL"),)

    # --- address ---------------------------------------------------------------------------

    def _address_parts(self) -> tuple[str, str, str, str]:
        """(country locale, street line, postcode, city), cached as one draw."""
        if "_address" not in self._cache:
            rng = self.rng
            locale = self.locale if self.locale in _ADDRESS_LOCALES else None
            locale = locale or rng.choice(_ADDRESS_LOCALES)
            fake = _FAKERS.seeded(locale, rng)
            street = " ".join(fake.street_address().split())
            if locale == "it_IT":
                # Faker's it_IT city() picks from a list built from a set, whose order changes
                # with hash randomisation; the postcode's own comune is stable (and real).
                postcode, rest = fake.postcode_city_province().split(", ", 1)
                city = rest.rsplit(" (", 1)[0]
            else:
                postcode, city = fake.postcode(), fake.city()
            if locale == "en_CA" and " " not in postcode:
                postcode = f"{postcode[:3]} {postcode[3:]}"
            if locale == "nl_NL" and " " not in postcode and rng.random() < 0.5:
                postcode = f"{postcode[:4]} {postcode[4:]}"
            self._cache["_address"] = (
                (locale, ""),
                (street, ""),
                (postcode, ""),
                (city, ""),
            )
        (locale, _), (street, _), (postcode, _), (city, _) = self._cache["_address"]
        return locale, street, postcode, city

    def _street(self) -> tuple[Piece, ...]:
        return ((self._address_parts()[1], "LOCATION"),)

    def _postcode(self) -> tuple[Piece, ...]:
        return ((self._address_parts()[2], "LOCATION"),)

    def _city(self) -> tuple[Piece, ...]:
        return ((self._address_parts()[3], "LOCATION"),)

    def _address(self) -> tuple[Piece, ...]:
        """Street, postcode and city as separate spans, in the country's usual order."""
        locale, street, postcode, city = self._address_parts()
        loc = "LOCATION"
        if locale == "en_US":
            state = self.rng.choice(("CA", "NY", "TX", "WA", "IL", "MA", "OR", "CO"))
            return ((street, loc), (", ", ""), (city, loc), (f", {state} ", ""), (postcode, loc))
        if locale in ("en_GB", "en_CA"):
            return ((street, loc), (", ", ""), (city, loc), (", ", ""), (postcode, loc))
        return ((street, loc), (", ", ""), (postcode, loc), (" ", ""), (city, loc))

    # --- dates ---------------------------------------------------------------------------

    def born(self) -> date:
        if self._born is None:
            self._born = date(1940, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 64))
            if self._born.day > 28:  # keeps fiscal codes simple; Feb 29 needs a leap year
                self._born = self._born.replace(day=28)
        return self._born

    def _dob(self) -> tuple[Piece, ...]:
        return ((date_text(self.rng, self.born()), "DATE_TIME"),)

    def _visit(self) -> tuple[Piece, ...]:
        day = date(2019, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 6))
        return ((date_text(self.rng, day), "DATE_TIME"),)

    # --- structured ids --------------------------------------------------------------------

    def _fiscal(self) -> tuple[Piece, ...]:
        first, last = self._names_cached()
        code = ids.fiscal_code(
            self.rng, first=first, last=last, born=self.born(), female=self.female
        )
        return ((code, "IT_FISCAL_CODE"),)

    def _ipv4(self) -> tuple[Piece, ...]:
        rng = self.rng
        while True:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
            wanted = address.is_global or (address.is_private and rng.random() < 0.3)
            odd = address.is_multicast or address.is_reserved or address.is_loopback
            if wanted and not odd:
                return ((str(address), "IP_ADDRESS"),)

    def _ipv6(self) -> tuple[Piece, ...]:
        rng = self.rng
        groups = [rng.choice((0x2001, 0x2A00, 0x2A02, 0x2600, 0x2604, 0x2409))]
        groups += [rng.randrange(0x10000) for _ in range(7)]
        if rng.random() < 0.5:  # a zero run, so the compressed "::" form shows up
            start = rng.randrange(2, 5)
            for index in range(start, start + rng.randrange(2, 4)):
                groups[index] = 0
        address = ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
        text = address.compressed if rng.random() < 0.75 else address.exploded
        return ((text, "IP_ADDRESS"),)


def _id_slot(entity: str, draw: Callable[[random.Random], str]) -> _Slot:
    def slot(who: Persona) -> tuple[Piece, ...]:
        return ((draw(who.rng), entity),)

    return slot


_Slot = Callable[[Persona], tuple[Piece, ...]]

# Slot name -> how a persona renders it. Compound slots (address) yield several pieces.
_SLOTS: dict[str, _Slot] = {
    "name": Persona._full,
    "first": Persona._first,
    "last": Persona._last,
    "lname": Persona._full_lower,
    "uname": Persona._full_upper,
    "lastfirst": Persona._last_first,
    "email": Persona._email,
    "phone": Persona._phone,
    "profile": Persona._profile,
    "address": Persona._address,
    "street": Persona._street,
    "postcode": Persona._postcode,
    "city": Persona._city,
    "dob": Persona._dob,
    "visit": Persona._visit,
    "cf": Persona._fiscal,
    "ip": Persona._ipv4,
    "ip6": Persona._ipv6,
    "card": _id_slot("CREDIT_CARD", ids.card),
    "iban": _id_slot("IBAN_CODE", ids.iban),
    "ssn": _id_slot("US_SSN", ids.ssn),
    "nhs": _id_slot("UK_NHS", ids.nhs),
    "nino": _id_slot("UK_NINO", ids.nino),
    "nif": _id_slot("ES_NIF", ids.nif),
    "sin": _id_slot("CA_SIN", ids.sin),
    "aadhaar": _id_slot("IN_AADHAAR", ids.aadhaar),
}
PERSONA_SLOTS = frozenset(_SLOTS)


def _phone_number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """A number libphonenumber calls valid, from the region's mobile or geographic ranges."""
    d = ids.digits
    while True:
        if region == "US":
            area = rng.choice(("201", "206", "212", "305", "312", "415", "512", "617", "646"))
            exchange = str(rng.randrange(201, 1000))
            if exchange[1:] == "11" or exchange == "555":  # service codes, fiction numbers
                continue
            nsn = area + exchange + d(rng, 4)
        elif region == "GB":
            nsn = rng.choice(
                ("7" + rng.choice("4579") + d(rng, 8), "20" + rng.choice("378") + d(rng, 7))
            )
        elif region == "DE":
            nsn = rng.choice(
                (
                    "15" + rng.choice("12") + d(rng, 8),
                    "17" + rng.choice("0256") + d(rng, 7),
                    "30" + d(rng, 8),
                    "89" + d(rng, 7),
                )
            )
        elif region == "FR":
            nsn = rng.choice("6712345") + d(rng, 8)
        elif region == "ES":
            nsn = rng.choice(("6" + d(rng, 8), "91" + d(rng, 7), "93" + d(rng, 7)))
        elif region == "IN":
            nsn = rng.choice("9876") + d(rng, 9)
        else:
            nsn = rng.choice(("11", "21", "31")) + "9" + d(rng, 8)
        code = phonenumbers.country_code_for_region(region)
        number = phonenumbers.parse(f"+{code}{nsn}")
        if phonenumbers.is_valid_number(number):
            return number
