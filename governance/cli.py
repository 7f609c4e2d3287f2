"""`governance`: tools for security teams and compliance officers.

    governance policy check [FILE]    parse policies.yaml; print each policy's version

Exit codes: 0 ok, 1 a governance error (its message names the key, line or file),
2 usage. Tracebacks only with --debug. Later issues add the ledger, export and
retention commands here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from governance.errors import GovernanceError
from governance.policy import load_policies_file

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="governance", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    policy = sub.add_parser("policy", help="policies.yaml tools")
    policy_sub = policy.add_subparsers(dest="action", required=True)
    check = policy_sub.add_parser("check", help="validate a policies file")
    check.add_argument("file", nargs="?", type=Path, default=Path("policies.yaml"))
    return parser


def _policy_check(file: Path) -> int:
    policies = load_policies_file(file)
    print(f"{file}: ok, version {policies.version}, sha256 {policies.digest}")
    for name, policy in sorted(policies.policies.items()):
        marker = " (default)" if name == policies.default_name else ""
        entities = ", ".join(policy.detection.entities)
        print(f"  {name}{marker}: {policy.policy_version}; entities: {entities}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "policy" and args.action == "check":
            return _policy_check(args.file)
    except GovernanceError as err:
        if args.debug:
            raise
        print(f"governance: {err}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects anything else


if __name__ == "__main__":
    raise SystemExit(main())
