"""The verifier against what the auditor asked for, hostile headers, concurrent signers,
and its stand-alone command line (no database library needed)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from governance.export import jsonl_lines, plan_export
from governance.ledger import Ledger
from governance.merkle import leaf_hash, right_nodes
from governance.note import NoteSigner
from governance.verify import verify_export
from tests.ledger._helpers import NOW, drafts

ROOT = Path(__file__).resolve().parents[2]


def _full_export(ledger: Ledger, signer: NoteSigner) -> list[bytes]:
    ledger.append(drafts(10), now=NOW)
    return list(jsonl_lines(ledger, plan_export(ledger, signer, now=NOW), now=NOW, actor="t"))


def _trim_tail(lines: list[bytes], ledger: Ledger, keep: int) -> list[bytes]:
    """Drop entries from the end and rewrite the header so it is self-consistent again."""
    header = json.loads(lines[0])
    entries = lines[1 : 1 + keep]
    size = ledger.state().size
    leaves = b"".join(leaf_hash(e.rstrip(b"\n")) for e in entries)
    nodes = right_nodes(keep, size)
    ranges = [(i << level, (i + 1) << level) for level, i in nodes]
    header["count"] = keep
    header["leaf_hashes"] = base64.b64encode(leaves).decode()
    header["right"] = [base64.b64encode(h).decode() for h in ledger.subtree_hashes(ranges)]
    return [json.dumps(header).encode() + b"\n", *entries]


def test_trimmed_export_with_rewritten_header_fails_unless_partial_is_accepted(
    ledger: Ledger, signer: NoteSigner
) -> None:
    """Entries cut from the end with the header fixed up still hash to the signed root, so
    only the range the auditor asked for catches it; accepting any range reports it."""
    trimmed = _trim_tail(_full_export(ledger, signer), ledger, keep=7)
    report = verify_export(trimmed, signer.verifier)
    assert not report.ok
    assert report.problems == [
        "export covers entries 0..6, not 0..9 as expected (the checkpoint has 10 entries): "
        "entries were left out"
    ]
    partial = verify_export(trimmed, signer.verifier, expected_range=None)
    assert partial.ok
    assert (partial.from_seq, partial.entries) == (0, 7)
    assert verify_export(trimmed, signer.verifier, expected_range=(0, 6)).ok


def test_header_nested_too_deep_is_a_problem_not_a_crash(signer: NoteSigner) -> None:
    """A hostile header that would exhaust the JSON parser's recursion is reported."""
    report = verify_export([b"[" * 100_000 + b"\n"], signer.verifier)
    assert not report.ok
    assert report.problems[0].startswith("line 1: not a ")


def test_concurrent_signers_keep_one_growing_witness(
    ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """Threads appending and signing with one witness file never fail and never leave it
    behind the newest checkpoint."""
    witness = tmp_path / "witness.note"
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(15):
                ledger.append(drafts(1, first=worker * 100 + n, tag=f"w{worker}"), now=NOW)
                ledger.sign_checkpoint(signer, now=datetime.now(UTC), witness=witness)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    latest = ledger.latest_checkpoint()
    assert latest is not None
    assert witness.read_text() == latest.note
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".witness")]


def test_standalone_verifier_runs_without_database_libraries(
    ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """`python -m governance.verify` verifies an export with SQLAlchemy, gRPC and pydantic
    unimportable, and exits 1 on a trimmed one."""
    export = tmp_path / "ledger.jsonl"
    lines = _full_export(ledger, signer)
    export.write_bytes(b"".join(lines))
    trimmed = tmp_path / "trimmed.jsonl"
    trimmed.write_bytes(b"".join(_trim_tail(lines, ledger, keep=4)))
    blocker = (
        "import sys\n"
        "for name in ('sqlalchemy', 'grpc', 'pydantic', 'yaml', 'sidecar'):\n"
        "    sys.modules[name] = None\n"
        "from governance.verify import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    key = signer.verifier.key()
    ok = subprocess.run(
        [sys.executable, "-c", blocker, str(export), "--public-key", key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "verified entries 0..9 (10)" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-c", blocker, str(trimmed), "--public-key", key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "entries were left out" in bad.stdout
