"""Unlabelled values that look like personal data but are not: the corpus's hard negatives.

Order and tracking numbers, versions, hashes, timestamps, amounts, part numbers... Each filler
is drawn fresh from the document's generator at every use. None may be personal data, so plain
digit runs are re-drawn when they would pass a card's Luhn check or read as a US or UK phone
number: a detector that flags them is wrong, and the label must agree.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import phonenumbers

from evaluation.generate import ids

__all__ = ["FILLERS", "PRODUCTS", "plain_number"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)

PRODUCTS = (
    "Northwind Sync", "Acme Ledger", "Globex Studio", "Initech Relay", "Contoso Vault",
    "Jasmine Test Runner", "Summer Sale Bundle", "Hooli Drive", "Umbra Analytics", "Vortex CLI",
    "Pixel Forge", "Lumen Desk", "Quanta Notes", "Orbit Queue", "Nimbus Backup",
)  # fmt: skip
_COMPANIES = (
    "Northwind Traders", "Acme Corp", "Globex", "Initech", "Contoso Ltd", "Umbra Health",
    "Vandelay Industries", "Hooli", "Stark Logistics", "Wayfarer Bank", "Blue Harbor Insurance",
)  # fmt: skip
_PUBLIC_URLS = (
    "https://docs.python.org/3/library/re.html",
    "https://docs.python.org/3/library/asyncio-task.html",
    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
    "https://kubernetes.io/docs/concepts/workloads/pods/",
    "https://www.postgresql.org/docs/16/sql-createindex.html",
    "https://semver.org/spec/v2.0.0.html",
    "https://peps.python.org/pep-0621/",
    "https://help.northwind.io/articles/returns-policy",
    "https://status.acme-corp.com/incidents",
)  # fmt: skip


def plain_number(rng: random.Random, low: int = 10, high: int = 16) -> str:
    """A `low..high`-digit run that is neither a Luhn-valid card nor a US/UK phone number."""
    while True:
        text = str(rng.randrange(1, 10)) + ids.digits(rng, rng.randrange(low, high + 1) - 1)
        if ids.card_ok(text) or ids.nhs_ok(text) or ids.aadhaar_ok(text):
            continue
        if any(True for _ in phonenumbers.PhoneNumberMatcher(f"no. {text}", "US")):
            continue
        if not any(True for _ in phonenumbers.PhoneNumberMatcher(f"no. {text}", "GB")):
            return text


def _moment(rng: random.Random) -> datetime:
    return _EPOCH + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))


def _date(rng: random.Random) -> str:
    day = _moment(rng).date()
    return rng.choice(
        (
            day.isoformat(),
            f"{day.day} {_MONTHS[day.month - 1]} {day.year}",
            day.strftime("%d/%m/%Y"),
        )
    )


def _timestamp(rng: random.Random) -> str:
    moment = _moment(rng)
    return rng.choice(
        (
            moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            moment.strftime("%Y-%m-%d %H:%M:%S"),
            moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        )
    )


def _version(rng: random.Random) -> str:
    major, minor, patch = rng.randrange(0, 15), rng.randrange(0, 30), rng.randrange(0, 40)
    return rng.choice(
        (
            f"{major}.{minor}.{patch}",
            f"v{major}.{minor}.{patch}",
            f"v{major}.{minor}.{patch}-rc{rng.randrange(1, 5)}",
            f"{major}.{minor}.{patch}b{rng.randrange(1, 4)}",
            f"10.0.{rng.randrange(17000, 22700)}.{rng.randrange(1000, 9999)}",
        )
    )


def _order(rng: random.Random) -> str:
    return rng.choice(
        (
            f"ORD-{rng.randrange(2019, 2026)}-{rng.randrange(10**5, 10**6)}",
            f"#{rng.randrange(10**6, 10**8)}",
            plain_number(rng),
            f"SO{rng.randrange(10**7, 10**8)}",
        )
    )


def _tracking(rng: random.Random) -> str:
    alnum = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    return rng.choice(
        (
            "1Z" + "".join(rng.choice(alnum) for _ in range(6)) + ids.digits(rng, 10),
            "JD" + ids.digits(rng, 16),
            " ".join(plain_number(rng, 12, 12)[i : i + 4] for i in (0, 4, 8)),
        )
    )


def _part(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return rng.choice(
        (
            rng.choice(letters) + ids.digits(rng, 7),
            "".join(rng.choice(letters) + str(rng.randrange(10)) for _ in range(4)),
            f"PN-{rng.randrange(1000, 9999)}-{rng.choice(letters)}{rng.randrange(10, 99)}",
        )
    )


def _isbn(rng: random.Random) -> str:
    body = "978" + ids.digits(rng, 9)
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
    return f"{body[:3]}-{body[3]}-{body[4:8]}-{body[8:]}-{check}"


def _amount(rng: random.Random) -> str:
    value = rng.randrange(100, 500000) / 100
    return rng.choice((f"€{value:,.2f}", f"${value:,.2f}", f"EUR {value:.2f}", f"£{value:,.2f}"))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


FILLERS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "ts": _timestamp,
    "time": lambda rng: f"{rng.randrange(8, 19):02d}:{rng.choice(('00', '15', '30', '45'))}",
    "year": lambda rng: str(rng.randrange(2019, 2026)),
    "version": _version,
    "order": _order,
    "invoice": lambda rng: f"INV-{rng.randrange(2021, 2026)}-{rng.randrange(100, 99999):05d}",
    "ticket": lambda rng: rng.choice(("#", "SUP-", "CS-", "INC")) + str(rng.randrange(1000, 99999)),
    "tracking": _tracking,
    "uuid": _uuid,
    "sha": lambda rng: f"{rng.getrandbits(160):040x}",
    "short": lambda rng: f"{rng.getrandbits(28):07x}",
    "sha256": lambda rng: f"{rng.getrandbits(256):064x}",
    "build": lambda rng: str(rng.randrange(1000, 99999)),
    "amount": _amount,
    "part": _part,
    "isbn": _isbn,
    "n": lambda rng: str(rng.randrange(2, 999)),
    "ms": lambda rng: str(rng.randrange(3, 2500)),
    "pct": lambda rng: f"{rng.randrange(0, 1000) / 10}%",
    "port": lambda rng: str(rng.choice((80, 443, 5432, 6379, 8080, 8443, 9090, 50051))),
    "status": lambda rng: str(rng.choice((200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500))),
    "color": lambda rng: f"#{rng.getrandbits(24):06x}",
    "semver": lambda rng: (
        rng.choice(("^", "~", ">=", "")) + _version(rng).lstrip("v").split("-")[0]
    ),
    "mrn": lambda rng: f"MRN-{rng.randrange(10**6, 10**7)}",
    "product": lambda rng: rng.choice(PRODUCTS),
    "company": lambda rng: rng.choice(_COMPANIES),
    "puburl": lambda rng: rng.choice(_PUBLIC_URLS),
    "today": lambda rng: (date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))).isoformat(),
}
