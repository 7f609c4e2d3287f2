"""The `retention:` section of policies.yaml: overrides, legal holds, ledger_keep, the
sweep schedule and batch size; every unknown or contradictory setting refused naming its
dotted key and line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.errors import PolicyError
from governance.policy import LegalHold
from tests.retention._site import load, policies_text

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400}
HOLD = "reason: litigation 2026-17, approver: legal@example.com"


def line_of(text: str, marker: str) -> int:
    """1-based number of the first line holding `marker`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in the text")


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        load(text)
    return str(caught.value)


# -- what loads ---------------------------------------------------------------------------


def test_tenant_overrides_apply_to_their_tenant_only() -> None:
    """keep_for gives a tenant its override and every other tenant the class's keep."""
    policies = load(
        policies_text(
            classes="    inference_logs: {keep: 30d, tenants: {acme: 90d, globex: 2w}}\n"
            "    app_logs: {keep: 7d}\n"
        )
    )
    retention = policies.retention
    assert retention.keep_for("inference_logs", "acme") == timedelta(days=90)
    assert retention.keep_for("inference_logs", "globex") == timedelta(days=14)
    assert retention.keep_for("inference_logs", "initech") == timedelta(days=30)
    assert retention.keep_for("app_logs", "acme") == timedelta(days=7)
    assert retention.classes["inference_logs"].longest() == timedelta(days=90)
    with pytest.raises(KeyError):
        retention.keep_for("no_such_class", "acme")


def test_schedule_defaults_when_unset() -> None:
    """Without sweep_every, batch_size or ledger_keep: hourly sweeps of 1000, ledger kept."""
    retention = load(policies_text()).retention
    assert retention.sweep_every == timedelta(hours=1)
    assert retention.batch_size == 1000
    assert retention.ledger_keep is None
    assert retention.holds == ()


@pytest.mark.parametrize(
    ("setting", "attribute", "value"),
    [
        ("sweep_every: 1s", "sweep_every", timedelta(seconds=1)),
        ("sweep_every: 90m", "sweep_every", timedelta(minutes=90)),
        ("sweep_every: 7d", "sweep_every", timedelta(days=7)),
        ("batch_size: 1", "batch_size", 1),
        ("batch_size: 100000", "batch_size", 100_000),
        ("ledger_keep: 90d", "ledger_keep", timedelta(days=90)),  # equal to the longest: ok
        ("ledger_keep: 7y", "ledger_keep", timedelta(days=7 * 365)),
    ],
)
def test_schedule_settings_within_bounds_load(
    setting: str, attribute: str, value: timedelta | int
) -> None:
    """sweep_every, batch_size at both bounds and a ledger_keep at least every keep load."""
    retention = load(policies_text(extra=f"  {setting}\n")).retention
    assert getattr(retention, attribute) == value


def test_file_version_names_version_and_digest() -> None:
    """file_version is `version/sha256:` and 16 hex digits, and changes with the text."""
    first = load(policies_text())
    second = load(policies_text(extra="  batch_size: 10\n"))
    assert re.fullmatch(r"retention-test/sha256:[0-9a-f]{16}", first.file_version)
    assert first.file_version == f"retention-test/sha256:{first.digest[:16]}"
    assert first.file_version != second.file_version


def _holds(text: str) -> dict[str, LegalHold]:
    return {hold.name: hold for hold in load(policies_text(holds=text)).retention.holds}


def test_hold_until_date_holds_through_that_utc_day() -> None:
    """`until: 2027-01-31` (YAML date or quoted) ends at 2027-02-01T00:00Z exactly."""
    holds = _holds(
        f"    - {{name: bare, tenant: acme, until: 2027-01-31, {HOLD}}}\n"
        f"    - {{name: quoted, tenant: acme, until: '2027-01-31', {HOLD}}}\n"
    )
    end = datetime(2027, 2, 1, tzinfo=UTC)
    for hold in holds.values():
        assert hold.until == end
        last = end - timedelta(microseconds=1)
        assert hold.covers("acme", "app_logs", now=last)
        assert not hold.covers("acme", "app_logs", now=end)


@pytest.mark.parametrize(
    ("until", "end"),
    [
        ("2027-01-31T12:00:00Z", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("'2027-01-31T12:00:00+02:00'", datetime(2027, 1, 31, 10, tzinfo=UTC)),
        ("'2027-01-31T12:00:00'", datetime(2027, 1, 31, 12, tzinfo=UTC)),  # naive: UTC
        ("2027-01-31 12:00:00", datetime(2027, 1, 31, 12, tzinfo=UTC)),  # YAML timestamp
        ("'2027-01-31T12:00:00.000001-05:00'", datetime(2027, 1, 31, 17, 0, 0, 1, tzinfo=UTC)),
    ],
)
def test_hold_until_time_is_the_exact_end(until: str, end: datetime) -> None:
    """An ISO 8601 time (YAML timestamp or quoted text, any offset, naive = UTC) is the end."""
    hold = _holds(f"    - {{name: h, class: app_logs, until: {until}, {HOLD}}}\n")["h"]
    assert hold.until == end
    assert hold.covers("t", "app_logs", now=end - timedelta(microseconds=1))
    assert not hold.covers("t", "app_logs", now=end)


def test_hold_scope_tenant_class_or_both() -> None:
    """A tenant hold covers all its classes, a class hold all tenants, both: the pair only."""
    text = (
        f"    - {{name: tenant-only, tenant: acme, {HOLD}}}\n"
        f"    - {{name: class-only, class: app_logs, {HOLD}}}\n"
        f"    - {{name: both, tenant: globex, class: inference_logs, {HOLD}}}\n"
        f"    - {{name: ended, tenant: initech, until: 2020-01-01, {HOLD}}}\n"
    )
    retention = load(policies_text(holds=text)).retention
    now = datetime(2026, 11, 1, tzinfo=UTC)

    def names(tenant: str, retention_class: str) -> set[str]:
        return {h.name for h in retention.holds_on(tenant, retention_class, now=now)}

    assert names("acme", "inference_logs") == {"tenant-only"}
    assert names("acme", "app_logs") == {"tenant-only", "class-only"}
    assert names("globex", "inference_logs") == {"both"}
    assert names("globex", "app_logs") == {"class-only"}
    assert names("initech", "inference_logs") == set()  # its hold ended in 2020
    assert names("umbrella", "inference_logs") == set()
    hold = retention.holds[0]
    assert (hold.reason, hold.approver, hold.until) == (
        "litigation 2026-17",
        "legal@example.com",
        None,
    )


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 12, 30)),
    st.integers(min_value=-86_400_000_000, max_value=3 * 86_400_000_000),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_hold_until_date_property(day: date, offset_us: int, zone_minutes: int) -> None:
    """For any date and moment in any zone, a date hold covers until that UTC day ends."""
    hold = LegalHold.model_validate(
        {"name": "h", "tenant": "acme", "reason": "r", "approver": "a", "until": day}
    )
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    now = (start + timedelta(microseconds=offset_us)).astimezone(
        timezone(timedelta(minutes=zone_minutes))
    )
    assert hold.covers("acme", "x", now=now) == (now < start + timedelta(days=1))


# -- what is refused, with key and line ---------------------------------------------------

BAD_SETTINGS = [
    # (id, text, dotted key, line marker, message fragment)
    (
        "class-keep-not-a-duration",
        policies_text(classes="    inference_logs: {keep: 30 days}\n    app_logs: {keep: 7d}\n"),
        "retention.classes.inference_logs.keep",
        "inference_logs: {keep",
        "whole number and a unit",
    ),
    (
        "class-keep-missing",
        policies_text(classes="    inference_logs: {tenants: {a: 1d}}\n    app_logs: {keep: 7d}\n"),
        "retention.classes.inference_logs.keep",
        "inference_logs: {tenants",
        "required",
    ),
    (
        "override-a-number",
        policies_text(
            classes="    inference_logs: {keep: 30d, tenants: {acme: 90}}\n"
            "    app_logs: {keep: 7d}\n"
        ),
        "retention.classes.inference_logs.tenants.acme",
        "tenants: {acme",
        "duration",
    ),
    (
        "override-zero",
        policies_text(
            classes="    inference_logs: {keep: 30d, tenants: {acme: 0d}}\n"
            "    app_logs: {keep: 7d}\n"
        ),
        "retention.classes.inference_logs.tenants.acme",
        "tenants: {acme",
        "whole number",
    ),
    (
        "override-over-100y",
        policies_text(
            classes="    inference_logs: {keep: 30d, tenants: {acme: 101y}}\n"
            "    app_logs: {keep: 7d}\n"
        ),
        "retention.classes.inference_logs.tenants.acme",
        "tenants: {acme",
        "at most 100y",
    ),
    (
        "unknown-class-setting",
        policies_text(
            classes="    inference_logs: {keep: 30d, hold: 1y}\n    app_logs: {keep: 7d}\n"
        ),
        "retention.classes.inference_logs.hold",
        "hold: 1y",
        "Extra inputs",
    ),
    (
        "duplicate-class-setting",
        policies_text(
            classes="    inference_logs: {keep: 30d, keep: 40d}\n    app_logs: {keep: 7d}\n"
        ),
        "retention.classes.inference_logs.keep",
        "keep: 40d",
        "duplicate key",
    ),
    (
        "unknown-retention-setting",
        policies_text(extra="  sweep_interval: 1h\n"),
        "retention.sweep_interval",
        "sweep_interval",
        "Extra inputs",
    ),
    (
        "hold-unknown-setting",
        policies_text(holds=f"    - {{name: h, tenant: a, expires: 2027-01-01, {HOLD}}}\n"),
        "retention.holds.0.expires",
        "- {name: h",
        "Extra inputs",
    ),
    (
        "hold-names-nothing",
        policies_text(
            holds=f"    - {{name: first, tenant: a, {HOLD}}}\n    - {{name: second, {HOLD}}}\n"
        ),
        "retention.holds.1",
        "name: second",
        "a hold names a tenant, a class or both",
    ),
    (
        "hold-unknown-class",
        policies_text(
            holds=f"    - {{name: first, tenant: a, {HOLD}}}\n"
            f"    - {{name: second, class: nope, {HOLD}}}\n"
        ),
        "retention.holds.1.class",
        "name: second",
        "no retention class 'nope' in retention.classes",
    ),
    (
        "hold-class-not-a-class-name",
        policies_text(holds=f"    - {{name: h, class: App-Logs, {HOLD}}}\n"),
        "retention.holds.0.class",
        "class: App-Logs",
        "pattern",
    ),
    (
        "hold-duplicate-name",
        policies_text(
            holds=f"    - {{name: same, tenant: a, {HOLD}}}\n"
            f"    - {{name: same, tenant: b, {HOLD}}}\n"
        ),
        "retention.holds.1.name",
        "tenant: b",
        "hold 'same' is listed twice",
    ),
    (
        "hold-name-with-space",
        policies_text(holds=f"    - {{name: legal hold, tenant: a, {HOLD}}}\n"),
        "retention.holds.0.name",
        "legal hold",
        "pattern",
    ),
    (
        "hold-tenant-not-a-label",
        policies_text(holds=f"    - {{name: h, tenant: 'acme corp', {HOLD}}}\n"),
        "retention.holds.0.tenant",
        "acme corp",
        "pattern",
    ),
    (
        "hold-without-reason",
        policies_text(holds="    - {name: h, tenant: a, approver: legal@example.com}\n"),
        "retention.holds.0.reason",
        "- {name: h",
        "required",
    ),
    (
        "hold-empty-reason",
        policies_text(holds="    - {name: h, tenant: a, reason: '', approver: x}\n"),
        "retention.holds.0.reason",
        "- {name: h",
        "at least 1 character",
    ),
    (
        "hold-without-approver",
        policies_text(holds="    - {name: h, tenant: a, reason: litigation}\n"),
        "retention.holds.0.approver",
        "- {name: h",
        "required",
    ),
    (
        "hold-until-not-a-date",
        policies_text(holds=f"    - {{name: h, tenant: a, until: next year, {HOLD}}}\n"),
        "retention.holds.0.until",
        "until: next year",
        "must be a date (2027-01-31) or an ISO 8601 time",
    ),
    (
        "hold-until-impossible-date",
        policies_text(holds=f"    - {{name: h, tenant: a, until: '2027-02-30', {HOLD}}}\n"),
        "retention.holds.0.until",
        "2027-02-30",
        "must be a date",
    ),
    (
        "hold-until-a-number",
        policies_text(holds=f"    - {{name: h, tenant: a, until: 2027, {HOLD}}}\n"),
        "retention.holds.0.until",
        "until: 2027",
        "datetime",
    ),
    (
        "holds-a-mapping",
        policies_text(extra="  holds: {name: h, tenant: a}\n"),
        "retention.holds",
        "holds:",
        "tuple",
    ),
    (
        "ledger-keep-shorter-than-class",
        policies_text(extra="  ledger_keep: 29d\n"),
        "retention.ledger_keep",
        "ledger_keep",
        "shorter than retention class 'inference_logs'",
    ),
    (
        "ledger-keep-shorter-than-override",
        policies_text(extra="  ledger_keep: 60d\n"),  # acme keeps inference logs 90d
        "retention.ledger_keep",
        "ledger_keep",
        "shorter than retention class 'inference_logs'",
    ),
    (
        "ledger-keep-shorter-than-second-class",
        policies_text(
            classes="    inference_logs: {keep: 1d}\n    app_logs: {keep: 2y}\n",
            extra="  ledger_keep: 1y\n",
        ),
        "retention.ledger_keep",
        "ledger_keep",
        "shorter than retention class 'app_logs'",
    ),
    (
        "ledger-keep-not-a-duration",
        policies_text(extra="  ledger_keep: forever\n"),
        "retention.ledger_keep",
        "ledger_keep",
        "whole number and a unit",
    ),
]

for _value in ("0s", "-1h", "1.5h", "30", "1h30m", "''"):
    BAD_SETTINGS.append(
        (
            f"sweep_every={_value}",
            policies_text(extra=f"  sweep_every: {_value}\n"),
            "retention.sweep_every",
            "sweep_every",
            "",
        )
    )
for _value in ("0", "-1", "100001", "'10'", "1.5", "true", "null"):
    BAD_SETTINGS.append(
        (
            f"batch_size={_value}",
            policies_text(extra=f"  batch_size: {_value}\n"),
            "retention.batch_size",
            "batch_size",
            "",
        )
    )


@pytest.mark.parametrize(
    ("text", "key", "marker", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_SETTINGS],
)
def test_bad_retention_setting_names_key_and_line(
    text: str, key: str, marker: str, fragment: str
) -> None:
    """Each bad retention setting is refused as `policies.yaml:<line>: <key>: <reason>`."""
    message = refused(text)
    assert message.startswith(f"policies.yaml:{line_of(text, marker)}: {key}: "), message
    assert fragment in message


@settings(max_examples=150, deadline=None)
@given(
    keep=st.tuples(st.integers(1, 100), st.sampled_from("smhdwy")),
    override=st.tuples(st.integers(1, 100), st.sampled_from("smhdwy")),
    ledger=st.tuples(st.integers(1, 100), st.sampled_from("smhdwy")),
)
def test_ledger_keep_must_outlive_every_keep(
    keep: tuple[int, str], override: tuple[int, str], ledger: tuple[int, str]
) -> None:
    """Any durations: loads iff ledger_keep >= every keep and override, else names it."""

    def seconds(value: tuple[int, str]) -> int:
        return value[0] * UNITS[value[1]]

    text = policies_text(
        classes=f"    inference_logs: {{keep: {keep[0]}{keep[1]}, "
        f"tenants: {{acme: {override[0]}{override[1]}}}}}\n"
        "    app_logs: {keep: 1s}\n",
        extra=f"  ledger_keep: {ledger[0]}{ledger[1]}\n",
    )
    longest = max(seconds(keep), seconds(override))
    if seconds(ledger) >= longest:
        retention = load(text).retention
        assert retention.keep_for("inference_logs", "acme") == timedelta(seconds=seconds(override))
        assert retention.keep_for("inference_logs", "beta") == timedelta(seconds=seconds(keep))
        assert retention.ledger_keep == timedelta(seconds=seconds(ledger))
    else:
        message = refused(text)
        assert message.startswith(
            f"policies.yaml:{line_of(text, 'ledger_keep')}: retention.ledger_keep: "
        )


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("0123456789smhdwyx .-"), min_size=1, max_size=8).filter(
        lambda s: s.strip() == s and s != "" and not s.startswith(("-", "."))
    )
)
def test_any_keep_text_loads_iff_it_is_a_duration(value: str) -> None:
    """A keep text loads iff it is one whole number and one unit, at most 100y."""
    text = policies_text(
        classes=f"    inference_logs: {{keep: '{value}'}}\n    app_logs: {{keep: 1d}}\n"
    )
    match = re.fullmatch(r"([1-9][0-9]{0,6})([smhdwy])", value)
    valid = match is not None and int(match[1]) * UNITS[match[2]] <= 100 * 365 * 86_400
    if valid:
        assert match is not None
        keep = load(text).retention.classes["inference_logs"].keep
        assert keep == timedelta(seconds=int(match[1]) * UNITS[match[2]])
    else:
        assert "retention.classes.inference_logs.keep" in refused(text)
