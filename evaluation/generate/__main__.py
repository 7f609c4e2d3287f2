"""`python -m evaluation.generate [--check] [--seed N] [--out PATH]`.

Writes the labelled corpus, or with --check regenerates it in memory and compares it byte for
byte with the committed file (exit 1 on any difference), which is what CI runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from evaluation.generate.build import generate
from evaluation.labels import write_corpus

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus.jsonl"
SEED = 20240917


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.generate")
    parser.add_argument("--check", action="store_true", help="compare with the file, write nothing")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    docs = generate(seed=args.seed)
    if not args.check:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_corpus(args.out, docs)
        print(f"wrote {len(docs)} documents to {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "corpus.jsonl"
        write_corpus(fresh, docs)
        same = args.out.is_file() and fresh.read_bytes() == args.out.read_bytes()
    if not same:
        print(f"{args.out} is out of date: run python -m evaluation.generate", file=sys.stderr)
        return 1
    print(f"{args.out} is up to date ({len(docs)} documents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
