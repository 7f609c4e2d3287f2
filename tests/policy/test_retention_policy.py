"""Retention classes and durations in policies.yaml."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.durations import format_duration, parse_duration
from governance.errors import PolicyError
from governance.policy import load_policies

BASE = """\
version: 1
default: a
{retention}
policies:
  a:
    detection: {{entities: [PERSON]}}
{inference}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(days=14)),
        ("7y", timedelta(days=7 * 365)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration_units(text: str, expected: timedelta) -> None:
    """Each unit parses to its documented length (a year is 365 days)."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30 days", "0d", "-1d", "1.5d", "30D", "101y"])
def test_parse_duration_rejects_malformed(text: str) -> None:
    """Anything but one positive whole number and one known unit is refused."""
    with pytest.raises(ValueError, match=r"must be"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=5_000), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_duration_format_round_trips(value: int, unit: str) -> None:
    """format_duration(parse_duration(x)) parses back to the same length."""
    parsed = parse_duration(f"{value}{unit}")
    assert parse_duration(format_duration(parsed)) == parsed


def test_retention_defaults_when_absent() -> None:
    """Without a retention section: inference_logs 30d, app_logs 7d; policies use the former."""
    policies = load_policies(BASE.format(retention="", inference=""))
    assert policies.retention.classes["inference_logs"].keep == timedelta(days=30)
    assert policies.retention.classes["app_logs"].keep == timedelta(days=7)
    assert policies.default.inference.retention_class == "inference_logs"


def test_retention_classes_parse() -> None:
    """Declared classes replace the defaults; inference and app logs name theirs."""
    text = BASE.format(
        retention="retention:\n  classes:\n    chats: {keep: 90d}\n",
        inference="    inference: {retention_class: chats}\n    app_logs: {retention_class: chats}",
    )
    policies = load_policies(text)
    assert set(policies.retention.classes) == {"chats"}
    assert policies.default.inference.retention_class == "chats"


@pytest.mark.parametrize(
    ("retention", "inference", "key", "line"),
    [
        ("retention:\n  classes:\n    x: {keep: 30 days}\n", "", "retention.classes.x.keep", 5),
        (
            "retention:\n  classes:\n    x: {keep: 30d, hold: yes}\n",
            "",
            "retention.classes.x.hold",
            5,
        ),
        ("retention:\n  classes:\n    Bad-Name: {keep: 1d}\n", "", "retention.classes.Bad-Name", 5),
        ("retention:\n  classes: {}\n", "", "retention.classes", 4),
        (
            "",
            "    inference: {retention_class: missing}",
            "policies.a.inference.retention_class",
            7,
        ),
    ],
)
def test_retention_errors_name_key_and_line(
    retention: str, inference: str, key: str, line: int
) -> None:
    """Bad durations, unknown keys or classes are refused naming the key and its line."""
    with pytest.raises(PolicyError) as caught:
        load_policies(BASE.format(retention=retention, inference=inference))
    message = str(caught.value)
    assert key in message
    assert f"policies:{line}:" in message


def test_app_logs_class_must_exist() -> None:
    """Declared classes without the app logs' class are refused, naming the key."""
    text = BASE.format(
        retention="retention:\n  classes:\n    chats: {keep: 90d}\n",
        inference="    inference: {retention_class: chats}",
    )
    with pytest.raises(PolicyError, match=r"policies\.a\.app_logs\.retention_class"):
        load_policies(text)
