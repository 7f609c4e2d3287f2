"""Erasure of one data subject by keyed token (legal holds respected, recorded with counts
and record ids, never the subject id or token) and apply-policy (expiries re-fixed from
the policy now in force, recorded), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.entries import EntryType, iso_utc
from governance.retention import RetentionError
from tests.retention._site import T0, Site, Spec, load, policies_text

HOLD = "reason: litigation, approver: legal@example.com"
SUBJECT = "subject-7f3a@example.org"
DAY = timedelta(days=1)


def _subject_site(site: Site) -> dict[str, list[str]]:
    """Records of SUBJECT for acme and beta in both classes, and of someone else."""
    made: dict[str, list[str]] = {}
    for tenant in ("acme", "beta"):
        for retention_class in ("inference_logs", "app_logs"):
            records = site.write(
                tenant, retention_class, T0, T0 + 30 * DAY, count=2, subject=SUBJECT
            )
            made[f"{tenant}/{retention_class}"] = [r.record_id for r in records]
    made["other"] = [
        r.record_id for r in site.write("acme", "app_logs", T0, T0 + 30 * DAY, subject="x")
    ]
    made["anonymous"] = [r.record_id for r in site.write("acme", "app_logs", T0, T0 + 30 * DAY)]
    return made


def _assert_no_subject(site: Site) -> None:
    raw = b"".join(entry for _, entry in site.ledger.entries(0, site.ledger.state().size))
    assert SUBJECT.encode() not in raw
    assert site.token(SUBJECT).encode() not in raw


def test_erasure_deletes_the_subjects_records_except_held(site: Site) -> None:
    """Erasure deletes the subject's unheld records, counts held ones per hold, no id."""
    policies = load(
        policies_text(
            holds=f"    - {{name: beta-hold, tenant: beta, {HOLD}}}\n"
            f"    - {{name: app-hold, class: app_logs, until: 2026-06-30, {HOLD}}}\n"
        )
    )
    made = _subject_site(site)
    size = site.ledger.state().size
    erasure = site.sweeper(policies).erase(token=site.token(SUBJECT), tenant=None, now=T0 + 2 * DAY)
    expected = sorted(made["acme/inference_logs"])
    assert erasure.deleted == expected
    # beta's 4 under beta-hold, acme's and beta's app logs (4) under app-hold
    assert erasure.held == {"beta-hold": 4, "app-hold": 4}
    remaining = site.record_ids()
    assert not set(expected) & remaining
    for key in ("acme/app_logs", "beta/inference_logs", "beta/app_logs", "other", "anonymous"):
        assert set(made[key]) <= remaining
    (entry,) = site.entries(EntryType.ERASURE)
    assert entry["seq"] == size
    assert entry["tenant"] is None
    assert (entry["count"], entry["record_ids"]) == (2, expected)
    assert entry["held"] == {"beta-hold": 4, "app-hold": 4}
    assert entry["policy_version"] == policies.file_version
    assert entry["now"] == iso_utc(T0 + 2 * DAY)
    _assert_no_subject(site)

    # Once app-hold has ended, a second erasure takes acme's app logs too.
    again = site.sweeper(policies).erase(
        token=site.token(SUBJECT), tenant=None, now=datetime(2026, 7, 1, tzinfo=UTC)
    )
    assert again.deleted == sorted(made["acme/app_logs"])
    assert again.held == {"beta-hold": 4}
    report = site.verify()
    assert report.ok, report.problems
    assert report.retention is not None
    assert report.retention.receipts == 4


def test_erasure_limited_to_one_tenant(site: Site) -> None:
    """With a tenant, erasure touches only that tenant's records of the subject."""
    policies = load(policies_text())
    made = _subject_site(site)
    erasure = site.sweeper(policies).erase(token=site.token(SUBJECT), tenant="beta")
    assert erasure.deleted == sorted(made["beta/inference_logs"] + made["beta/app_logs"])
    assert erasure.held == {}
    (entry,) = site.entries(EntryType.ERASURE)
    assert (entry["tenant"], entry["count"]) == ("beta", 4)
    assert set(made["acme/inference_logs"] + made["acme/app_logs"]) <= site.record_ids()
    _assert_no_subject(site)
    report = site.verify()
    assert report.ok, report.problems


def test_erasure_of_unknown_subject_is_recorded_as_nothing(site: Site) -> None:
    """An erasure that finds nothing deletes nothing and still records a zero count."""
    _subject_site(site)
    before = site.record_ids()
    erasure = site.sweeper(load(policies_text())).erase(token=site.token("nobody"), tenant=None)
    assert (erasure.deleted, erasure.held) == ([], {})
    assert site.record_ids() == before
    (entry,) = site.entries(EntryType.ERASURE)
    assert (entry["count"], entry["record_ids"], entry["held"]) == (0, [], {})
    site.check()


def test_erasure_then_sweep_counts_each_record_once(site: Site) -> None:
    """Records erased are not deleted again by a later sweep; the receipts cover each once."""
    policies = load(policies_text())
    made = _subject_site(site)
    erased = site.sweeper(policies).erase(token=site.token(SUBJECT), tenant=None)
    report = site.sweeper(policies).run(now=T0 + 31 * DAY)
    assert report.deleted == len(made["other"]) + len(made["anonymous"])
    assert not set(erased.deleted) & set(site.deleted_ids())
    assert site.record_ids() == set()
    verified = site.verify()
    assert verified.ok, verified.problems
    assert verified.retention is not None
    assert verified.retention.receipts == len(site.seeded)


# -- apply-policy -------------------------------------------------------------------------


def test_apply_policy_shortens_and_lengthens_expiries(site: Site) -> None:
    """apply-policy re-fixes expiries from creation time, records them; sweeps follow."""
    old = load(policies_text())
    keep = old.retention.keep_for
    acme = site.write("acme", "inference_logs", T0, T0 + keep("inference_logs", "acme"))
    beta = site.write("beta", "inference_logs", T0, T0 + keep("inference_logs", "beta"), count=2)
    app = site.write("beta", "app_logs", T0, T0 + keep("app_logs", "beta"))
    new = load(
        policies_text(
            classes="    inference_logs: {keep: 10d, tenants: {acme: 120d}}\n"
            "    app_logs: {keep: 7d}\n"
        )
    )
    changed = site.sweeper(new).apply_policy()
    assert changed == 3
    assert site.expires_of(acme[0].record_id) == T0 + 120 * DAY
    assert all(site.expires_of(r.record_id) == T0 + 10 * DAY for r in beta)
    assert site.expires_of(app[0].record_id) == T0 + 7 * DAY  # unchanged
    (entry,) = site.entries(EntryType.RETENTION_POLICY_APPLIED)
    assert entry["policy_version"] == new.file_version
    assert entry["count"] == 3
    assert sorted(entry["changes"]) == sorted(
        [[acme[0].record_id, iso_utc(T0 + 120 * DAY)]]
        + [[r.record_id, iso_utc(T0 + 10 * DAY)] for r in beta]
    )

    sweeper = site.sweeper(new)
    assert sweeper.run(now=T0 + 11 * DAY).deleted == 3  # beta's two and the app log
    assert sweeper.run(now=T0 + 100 * DAY).deleted == 0  # acme's would have gone at 90d
    assert site.record_ids() == {acme[0].record_id}
    report = site.verify()  # the check follows re-fixed expiries: no violation at 100d
    assert report.ok, report.problems


def test_apply_policy_in_batches(site: Site) -> None:
    """apply_policy(batch=2) over 5 changed records commits 3 entries, 2 + 2 + 1."""
    site.write("beta", "app_logs", T0, T0 + 7 * DAY, count=5)
    new = load(policies_text(classes="    inference_logs: {keep: 30d}\n    app_logs: {keep: 1d}\n"))
    assert site.sweeper(new).apply_policy(batch=2) == 5
    entries = site.entries(EntryType.RETENTION_POLICY_APPLIED)
    assert [e["count"] for e in entries] == [2, 2, 1]
    ids = [change[0] for e in entries for change in e["changes"]]
    assert sorted(ids) == sorted(site.seeded)
    site.check()


def test_apply_policy_unchanged_changes_nothing(site: Site) -> None:
    """Under the policy records were written with, apply-policy changes and appends nothing."""
    policies = load(policies_text())
    site.write("acme", "inference_logs", T0, T0 + 90 * DAY)
    site.write("beta", "app_logs", T0, T0 + 7 * DAY)
    size = site.ledger.state().size
    assert site.sweeper(policies).apply_policy() == 0
    assert site.ledger.state().size == size
    site.check()


def test_apply_policy_unchanged_keeps_database_clock_expiries(site: Site) -> None:
    """Under an unchanged policy, apply-policy keeps expiries set by the database clock."""
    # Sweeper.apply_policy re-fixes expiry as created_us + keep, where created_us is the
    # writer's clock, while the record was written as database-clock-at-commit + keep.
    policies = load(policies_text())
    keep = policies.retention.keep_for("app_logs", "beta")
    lagging = datetime.now(UTC) - timedelta(hours=1)  # a writer whose clock is an hour slow
    (record,) = site.write_all([Spec("beta", "app_logs", lagging, lagging + keep, keep=keep)])
    written = site.expires_of(record.record_id)
    assert written > lagging + keep + timedelta(minutes=59)  # the database's clock decided
    assert site.sweeper(policies).apply_policy() == 0
    assert site.expires_of(record.record_id) == written
    assert site.entries(EntryType.RETENTION_POLICY_APPLIED) == []


def test_apply_policy_refuses_records_of_an_undefined_class(site: Site) -> None:
    """Records of a class the policy lacks stop apply-policy naming it; nothing changes."""
    site.write("beta", "legacy", T0, T0 + 7 * DAY)
    policies = load(policies_text())
    with pytest.raises(RetentionError, match=r"'legacy'"):
        site.sweeper(policies).apply_policy()
    assert site.entries(EntryType.RETENTION_POLICY_APPLIED) == []
    site.check()


def test_sweep_deletes_records_of_an_undefined_class_but_never_shreds_them(site: Site) -> None:
    """Expired records of an undefined class are deleted; their bucket is never shredded."""
    (record,) = site.write("beta", "legacy", T0, T0 + 7 * DAY)
    report = site.sweeper(load(policies_text())).run(now=T0 + 365 * DAY)
    assert (report.deleted, report.buckets_shredded) == (1, [])
    assert site.record_ids() == set()
    assert record.scope[1] == "legacy"
    verified = site.verify()
    assert verified.ok, verified.problems


def test_apply_policy_racing_a_sweep_leaves_a_verifiable_ledger(site: Site) -> None:
    """apply-policy while a sweep runs is refused (they share the sweeper lease); applied
    afterwards, the next sweep deletes what it made expired, and the ledger verifies."""
    old = load(policies_text())
    (record,) = site.write("beta", "app_logs", T0, T0 + 7 * DAY)
    new = load(policies_text(classes="    inference_logs: {keep: 30d}\n    app_logs: {keep: 1d}\n"))
    operator = site.sweeper(new)
    refused: list[str] = []

    def step(name: str) -> None:
        if name == "keys_destroyed":  # the batches are done, the summary is next
            with pytest.raises(RetentionError, match="a sweep is running") as caught:
                operator.apply_policy()
            refused.append(str(caught.value))

    report = site.sweeper(old, step=step).run(now=T0 + 5 * DAY)
    assert report.deleted == 0
    assert refused
    assert site.expires_of(record.record_id) != T0 + DAY
    assert operator.apply_policy() == 1
    assert site.sweeper(new).run(now=T0 + 5 * DAY).deleted == 1
    verified = site.verify()
    assert verified.ok, verified.problems
