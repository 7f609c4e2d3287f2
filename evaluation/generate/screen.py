"""Cheap screens for text that must hold no personal data (the negative part).

Simple patterns plus libphonenumber's matcher: if any fires, the generator re-draws, because a
negative document that looks personal to a plain regex is a labelling error, not a hard case.
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

__all__ = ["looks_personal"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def looks_personal(text: str) -> list[str]:
    """What in `text` looks like an e-mail, IP address or US/UK phone number (kinds only)."""
    found = ["email" for _ in _EMAIL.finditer(text)]
    found += ["ip" for m in _IPV4.finditer(text) if _is_ip(m.group())]
    found += ["ip" for m in _IPV6.finditer(text) if any(c.isalnum() for c in m.group())
              and _is_ip(m.group())]  # fmt: skip
    for region in ("US", "GB"):
        found += ["phone" for _ in phonenumbers.PhoneNumberMatcher(text, region)]
    return found
