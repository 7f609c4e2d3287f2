"""The sweeper and erasure under this suite's warning policy (`filterwarnings = error`):
with the installed SQLAlchemy (2.1) they run without a deprecation warning (expiry.py
once called the deprecated `Result.tuples()`, which failed every sweep here)."""

from __future__ import annotations

from datetime import timedelta

from tests.retention._site import T0, Site, load, policies_text


def test_sweep_and_erasure_raise_no_deprecation_warning(site: Site) -> None:
    """A sweep, a dry run and an erasure complete under warnings-as-errors."""
    policies = load(policies_text())
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), subject="s")
    sweeper = site.sweeper(policies)
    assert sweeper.erase(token=site.token("nobody"), tenant=None).deleted == []
    assert sweeper.run(now=T0 + timedelta(days=8), dry_run=True).counts
    assert sweeper.run(now=T0 + timedelta(days=8)).deleted == 1
