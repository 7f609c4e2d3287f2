"""Run `python -m sidecar ARGS` under an audit hook that refuses non-loopback network use.

Usage: python netguard.py serve --listen ... (the arguments of `sidecar`). Every name
lookup, connect or send aimed at a host other than loopback is refused with
ConnectionRefusedError and reported on stderr as a line starting with REFUSED.
Python-level only: native code (gRPC core) is not seen; the netns variant covers that.
"""

from __future__ import annotations

import ipaddress
import runpy
import socket
import sys
import urllib.parse
from typing import Any

ARMED = "netguard: armed"
REFUSED = "netguard: refused"
_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "urllib.Request",
    }
)
_LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost"})
_reporting = False


def _host(event: str, args: tuple[Any, ...]) -> object:
    """The host `event` would reach, or None for local-only targets (AF_UNIX, unset)."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1]
        return address[0] if isinstance(address, tuple) else None
    if event == "socket.getnameinfo":
        return args[0][0]
    if event == "urllib.Request":
        return urllib.parse.urlsplit(str(args[0])).hostname or str(args[0])
    return args[0]


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    host = _host(event, args)
    if _is_loopback(host):
        return
    if _reporting:
        sys.stderr.write(f"{REFUSED} {event} {host!r}\n")
        sys.stderr.flush()
    raise ConnectionRefusedError(f"netguard: no network here ({event} {host!r})")


def _self_test() -> bool:
    """True when the hook refuses a lookup and a connect (before they reach the OS)."""
    refused = 0
    try:
        socket.getaddrinfo("netguard-self-test.invalid", 443)
    except ConnectionRefusedError:
        refused += 1
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1, never routed
        except ConnectionRefusedError:
            refused += 1
    return refused == 2


def main() -> None:
    global _reporting
    sys.addaudithook(_hook)
    if not _self_test():
        sys.exit("netguard: the audit hook did not refuse the self-test")
    _reporting = True
    print(ARMED, file=sys.stderr, flush=True)
    sys.argv = ["sidecar", *sys.argv[1:]]
    runpy.run_module("sidecar", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
