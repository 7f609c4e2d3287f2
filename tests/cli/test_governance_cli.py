"""`governance` command line: keys and logs on a real SQLite store, exit codes, output."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.cli import main
from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, NewRecord, database_url_for
from governance.vault import Vault
from tests.conftest import SHIPPED_POLICIES

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _seed(data_dir: Path) -> list[str]:
    """Three records: two tenants, two models, two days (keys as `sidecar serve` makes them)."""
    provider = LocalKeyProvider(data_dir / "keys" / "kek.json")
    provider.ledger_signer()
    store = LogStore(database_url_for(data_dir), Vault(provider))
    store.migrate()
    records = [
        NewRecord(
            "acme",
            "inference_logs",
            "inference",
            "m1",
            T0,
            T0 + timedelta(days=30),
            b'{"input": "hello <PERSON_1>", "n": 1}',
        ),
        NewRecord(
            "acme",
            "app_logs",
            "app",
            "m2",
            T0 + timedelta(days=1),
            T0 + timedelta(days=8),
            b'{"message": "started", "n": 2}',
        ),
        NewRecord(
            "globex",
            "inference_logs",
            "inference",
            "m1",
            T0 + timedelta(days=2),
            T0 + timedelta(days=32),
            b'{"input": "hi", "n": 3}',
        ),
    ]
    ids = store.put(records)
    store.close()
    return ids


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_logs_read_jsonl_all_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """logs read prints one JSON object per record, decrypted, in creation order."""
    ids = _seed(tmp_path)
    code, out, err = _run(capsys, "logs", "read", "--data-dir", str(tmp_path))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["record_id"] for r in rows] == ids
    assert [r["record"]["n"] for r in rows] == [1, 2, 3]
    assert rows[0]["created_at"] == T0.isoformat()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--tenant", "acme"], [1, 2]),
        (["--model", "m1"], [1, 3]),
        (["--since", "2026-11-21T00:00:00Z"], [2, 3]),
        (["--until", "2026-11-21"], [1]),
        (["--tenant", "acme", "--model", "m2"], [2]),
    ],
)
def test_logs_read_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], expected: list[int]
) -> None:
    """--tenant, --model, --since and --until select records (naive times are UTC)."""
    _seed(tmp_path)
    code, out, _ = _run(capsys, "logs", "read", *flags, "--data-dir", str(tmp_path))
    assert code == 0
    assert [json.loads(line)["record"]["n"] for line in out.splitlines()] == expected


def test_logs_read_csv_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format csv --out FILE writes a header and one row per record, nothing to stdout."""
    _seed(tmp_path)
    target = tmp_path / "out.csv"
    code, out, _ = _run(
        capsys, "logs", "read", "--format", "csv", "--out", str(target), "--data-dir", str(tmp_path)
    )
    assert code == 0
    assert out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [json.loads(r["record"])["n"] for r in rows] == [1, 2, 3]
    assert rows[1]["retention_class"] == "app_logs"


def test_logs_read_tampered_record_reported_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record whose ciphertext was altered is named on stderr, never shown; exit 1."""
    ids = _seed(tmp_path)
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        (sealed,) = db.execute(
            "SELECT sealed FROM log_records WHERE record_id=?", (ids[0],)
        ).fetchone()
        flipped = bytes([sealed[0]]) + sealed[1:-1] + bytes([sealed[-1] ^ 1])
        db.execute("UPDATE log_records SET sealed=? WHERE record_id=?", (flipped, ids[0]))
    code, out, err = _run(capsys, "logs", "read", "--data-dir", str(tmp_path))
    assert code == 1
    assert f"record {ids[0]}: tampered" in err
    assert ids[0] not in out
    assert "PERSON_1" not in out
    assert [json.loads(line)["record"]["n"] for line in out.splitlines()] == [2, 3]


def test_keys_rotate_two_phases_then_retire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """add, then promote (re-wraps data keys), then the old version can be retired; the
    records stay readable and no record was re-encrypted."""
    _seed(tmp_path)
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        before = db.execute("SELECT record_id, sealed FROM log_records ORDER BY 1").fetchall()
    code, out, _ = _run(capsys, "keys", "rotate", "--stage", "add", "--data-dir", str(tmp_path))
    assert code == 0
    assert "kek v2 added; primary is still v1" in out
    code, _, err = _run(capsys, "keys", "retire", "1", "--data-dir", str(tmp_path))
    assert code == 1
    assert "still wraps" in err
    code, out, _ = _run(capsys, "keys", "rotate", "--stage", "promote", "--data-dir", str(tmp_path))
    assert code == 0
    assert "kek v2 is primary; 3 data keys re-wrapped" in out
    code, out, _ = _run(capsys, "keys", "retire", "1", "--data-dir", str(tmp_path))
    assert code == 0
    code, out, _ = _run(capsys, "keys", "list", "--data-dir", str(tmp_path))
    assert "kek v1: retired" in out
    assert "kek v2 (primary): active" in out
    assert out.count("kek v2\n") == 3
    with sqlite3.connect(tmp_path / "sidecar.db") as db:
        after = db.execute("SELECT record_id, sealed FROM log_records ORDER BY 1").fetchall()
    assert after == before
    code, out, _ = _run(capsys, "logs", "read", "--data-dir", str(tmp_path))
    assert code == 0
    assert len(out.splitlines()) == 3


def test_commands_refuse_to_create_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reading tools on an empty data dir fail naming the missing key file; none is made."""
    code, _, err = _run(capsys, "logs", "read", "--data-dir", str(tmp_path))
    assert code == 1
    assert "no key file" in err
    assert not (tmp_path / "keys").exists()


def test_policy_check_option_and_positional(capsys: pytest.CaptureFixture[str]) -> None:
    """policy check takes the file as an argument or through --policies."""
    for argv in (
        ["policy", "check", str(SHIPPED_POLICIES)],
        ["policy", "check", "--policies", str(SHIPPED_POLICIES)],
    ):
        code, out, _ = _run(capsys, *argv)
        assert code == 0
        assert "chat (default)" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "read", "--since", "yesterday"],
        ["logs", "read", "--format", "xml"],
        ["keys", "retire", "one"],
        ["keys"],
        ["nothing"],
    ],
)
def test_usage_errors_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Malformed command lines exit 2 with usage on stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: governance" in capsys.readouterr().err


def test_logs_read_shows_nothing_it_cannot_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the ledger signing key the read cannot be recorded, so no record is shown:
    the records_read entry is committed before any plaintext is printed."""
    _seed(tmp_path)
    (tmp_path / "keys" / "ledger-signing.key").unlink()
    code, out, err = _run(capsys, "logs", "read", "--data-dir", str(tmp_path))
    assert code == 1
    assert out == ""
    assert "ledger-signing.key" in err
