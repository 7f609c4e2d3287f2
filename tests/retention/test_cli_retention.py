"""`governance retention run|apply-policy` and `governance erase` through cli.main on a
data dir laid out like `sidecar serve` makes it, on SQLite and PostgreSQL: exit codes,
counts per tenant/class/bucket, and the subject id never printed or recorded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from governance.cli import main
from governance.entries import EntryType, iso_utc
from tests.retention._site import (
    SCENARIO_NOW,
    SCENARIO_POLICIES,
    T0,
    Site,
    check_scenario_done,
    load,
    policies_text,
    seed_scenario,
)

SUBJECT = "jane.roe+7@example.net"
NOW_ARG = "2026-07-11T08:00:00Z"
COUNT_LINES = [
    "beta\tapp_logs\t2026-06-03\t{verb}\t3",
    "beta\tinference_logs\t2026-06-01\t{verb}\t6",
    "gamma\tinference_logs\t2026-06-01\t{verb}\t2",
    "globex\tapp_logs\t2026-06-01\theld\t2",
]


class Cli:
    """Runs `governance ...` against one site with a policies file; returns (code, out, err)."""

    def __init__(self, site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.site = site
        self.policies = tmp_path / "policies.yaml"
        self.policies.write_text(SCENARIO_POLICIES)
        self._capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        common = ["--data-dir", str(self.site.data_dir), "--policies", str(self.policies)]
        if self.site.kind == "postgresql":
            common += ["--database-url", self.site.url]
        self._capsys.readouterr()
        code = main([*argv, *common])
        out, err = self._capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(site, tmp_path, capsys)


def test_cli_dry_run_prints_counts_and_deletes_nothing(site: Site, cli: Cli) -> None:
    """retention run --dry-run --now prints per-bucket counts, exits 0 and deletes nothing."""
    seed_scenario(site)
    before = site.record_ids()
    code, out, err = cli("retention", "run", "--dry-run", "--now", NOW_ARG)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *(line.format(verb="would delete") for line in COUNT_LINES),
        "would delete 11 records, 2 held, would shred 2 buckets "
        "(evaluated at 2026-07-11T08:00:00+00:00)",
    ]
    assert site.record_ids() == before
    (entry,) = site.entries(EntryType.RETENTION_DRY_RUN)
    assert entry["actor"].startswith("cli:")
    assert entry["now"] == iso_utc(SCENARIO_NOW)
    assert site.entries(EntryType.RETENTION_DELETION) == []
    site.check()


def test_cli_run_deletes_and_reports(site: Site, cli: Cli) -> None:
    """retention run --now (naive = UTC) deletes, prints per-bucket counts and exits 0."""
    scenario = seed_scenario(site)
    code, out, err = cli("retention", "run", "--now", "2026-07-11T08:00")  # naive: UTC
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *(line.format(verb="deleted") for line in COUNT_LINES),
        "deleted 11 records, 2 held, shredded 2 buckets (evaluated at 2026-07-11T08:00:00+00:00)",
    ]
    check_scenario_done(site, scenario)
    (summary,) = site.entries(EntryType.RETENTION_SWEEP)
    assert summary["actor"].startswith("cli:")


def test_cli_run_busy_exits_1(site: Site, cli: Cli) -> None:
    """While another sweeper holds the lease, `retention run` says so and exits 1."""
    seed_scenario(site)
    until = int((site.store.database.now() + timedelta(minutes=5)).timestamp() * 1e6)
    site.execute(
        "INSERT INTO sweeper_lease (id, owner, until_us) VALUES (1, 'replica-b', :u)", u=until
    )
    code, out, _ = cli("retention", "run", "--now", NOW_ARG)
    assert code == 1
    assert out == "another sweeper is running; nothing done\n"
    assert site.entries(EntryType.RETENTION_DELETION) == []
    site.check()


def test_cli_erase_never_prints_the_subject(site: Site, cli: Cli) -> None:
    """erase --subject erases unheld records, reports holds, never shows the subject id."""
    cli.policies.write_text(
        policies_text(
            holds="    - {name: globex-hold, tenant: globex, reason: r, approver: legal}\n"
        )
    )
    mine = site.write("acme", "app_logs", T0, T0 + timedelta(days=7), count=2, subject=SUBJECT)
    held = site.write("globex", "app_logs", T0, T0 + timedelta(days=7), subject=SUBJECT)
    other = site.write("acme", "app_logs", T0, T0 + timedelta(days=7), subject="someone-else")
    code, out, err = cli("erase", "--subject", SUBJECT)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["erased 2 records", "kept 1 records under legal hold globex-hold"]
    assert site.record_ids() == {held[0].record_id, other[0].record_id}
    (entry,) = site.entries(EntryType.ERASURE)
    assert sorted(entry["record_ids"]) == sorted(r.record_id for r in mine)
    raw = b"".join(e for _, e in site.ledger.entries(0, site.ledger.state().size))
    assert SUBJECT.encode() not in raw
    assert site.token(SUBJECT).encode() not in raw

    code, out, err = cli("erase", "--subject", SUBJECT, "--tenant", "acme")
    assert (code, out, err) == (0, "erased 0 records\n", "")
    report = site.verify()
    assert report.ok, report.problems


def test_cli_erase_without_subject_key_exits_1(site: Site, cli: Cli) -> None:
    """Without keys/subject.key, erase fails with exit 1 naming the file, not the subject."""
    (site.data_dir / "keys" / "subject.key").unlink()
    code, out, err = cli("erase", "--subject", SUBJECT)
    assert code == 1
    assert "subject.key: cannot read" in err
    assert SUBJECT not in out + err


def test_cli_apply_policy_reports_changes(site: Site, cli: Cli) -> None:
    """retention apply-policy re-fixes expiries and prints the count and file version."""
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=3)
    text = policies_text(classes="    inference_logs: {keep: 30d}\n    app_logs: {keep: 2d}\n")
    cli.policies.write_text(text)
    code, out, err = cli("retention", "apply-policy")
    assert (code, err) == (0, "")
    assert out == f"3 records got a new expiry under {load(text).file_version}\n"
    assert all(site.expires_of(r) == T0 + timedelta(days=2) for r in site.seeded)
    (entry,) = site.entries(EntryType.RETENTION_POLICY_APPLIED)
    assert entry["count"] == 3
    site.check()


def test_cli_bad_policies_exit_1_with_key_and_line(site: Site, cli: Cli) -> None:
    """A bad retention setting stops every retention command: exit 1, key and line."""
    seed_scenario(site)
    text = policies_text(extra="  batch_size: 0\n")
    cli.policies.write_text(text)
    line = text.splitlines().index("  batch_size: 0") + 1
    size = site.ledger.state().size
    for argv in (["retention", "run"], ["retention", "apply-policy"], ["erase", "--subject", "x"]):
        code, out, err = cli(*argv)
        assert code == 1, argv
        assert out == ""
        assert f"policies.yaml:{line}: retention.batch_size:" in err
    assert site.ledger.state().size == size


def test_cli_bad_now_is_a_usage_error(site: Site, cli: Cli) -> None:
    """`--now` that is no ISO 8601 time is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as exited:
        cli("retention", "run", "--now", "next tuesday")
    assert exited.value.code == 2
