"""Targets, the regression check, and `python -m evaluation`'s tables and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.__main__ import main, select
from evaluation.labels import write_corpus
from evaluation.report import format_markdown, format_text, run_from_json
from evaluation.score import EntityFigures, Figures, Rate
from evaluation.targets import check_targets, regressions
from tests.conftest import SHIPPED_POLICIES
from tests.evaluation.tiny_corpus import DOCS, VALUES

_SLICES = (
    "all",
    "realistic",
    "adversarial",
    "negative",
    "heldout",
    "heldout:realistic",
    "heldout:adversarial",
    "heldout:negative",
)


def _slices(
    leaks: Rate, *, direct: Rate | None = None, over: Rate | None = None, person: Rate | None = None
) -> dict[str, Figures]:
    figures = Figures(
        documents=10,
        leaks=leaks,
        direct=direct or leaks,
        over_redaction=over or Rate(0, 10),
        by_entity={"PERSON": EntityFigures(person or Rate())},
    )
    return dict.fromkeys(_SLICES, figures)


def test_targets_pass_and_fail_on_counts() -> None:
    """Bounds hold exactly on the counts; a zero for Presidio needs a zero for us."""
    presidio = _slices(Rate(40, 100), over=Rate(4, 100), person=Rate(10, 50))
    good = _slices(Rate(10, 100), direct=Rate(0, 100), over=Rate(1, 100), person=Rate(5, 50))
    assert all(t.passed for t in check_targets(good, presidio))
    bad = _slices(Rate(11, 100), direct=Rate(6, 100), over=Rate(2, 100), person=Rate(6, 50))
    failed = {(t.scope, t.name) for t in check_targets(bad, presidio) if not t.passed}
    assert len(failed) == 10  # all five targets, in both scopes
    spotless = _slices(Rate(0, 100), over=Rate(0, 100))
    assert not all(t.passed for t in check_targets(_slices(Rate(1, 100)), spotless))


def test_regressions_allow_the_tolerance() -> None:
    """Worse by more than max(0.002, one value) fails, naming the figure; less passes."""
    baseline = _slices(Rate(10, 1000))
    assert regressions(_slices(Rate(12, 1000)), baseline) == []
    worse = regressions(_slices(Rate(13, 1000)), baseline)
    assert {r.figure for r in worse} >= {"overall leak rate", "direct-identifier leak rate"}
    assert "13/1000" in str(worse[0])
    assert regressions(_slices(Rate(2, 100)), _slices(Rate(1, 100))) == []  # one value
    assert regressions(_slices(Rate(1, 1000)), baseline) == []  # better


def test_select_limits_each_part() -> None:
    """--limit takes the first N of each part; --part keeps only the parts named."""
    assert [d.id for d in select(DOCS, parts=None, limit=1)] == ["r1", "a1", "n1"]
    assert [d.id for d in select(DOCS, parts=["negative"], limit=None)] == ["n1", "n2"]


def test_tables_name_every_section() -> None:
    """The text report has the summary, per-type, per-obfuscation and TARGETS sections;
    Markdown has a table per section; a missing system reads n/a."""
    run = {"sidecar": _slices(Rate(1, 10)), "presidio": _slices(Rate(5, 10))}
    targets = check_targets(run["sidecar"], run["presidio"])
    text = format_text(run, targets)
    for section in ("by part", "Per entity type", "Per obfuscation kind", "TARGETS", "PASS"):
        assert section in text
    markdown = format_markdown(run, targets)
    assert sum(line.startswith("|---") for line in markdown.splitlines()) == 3
    assert "n/a" in format_text({"sidecar": _slices(Rate(1, 10))}, [])


def test_main_writes_json_and_never_prints_a_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full run on the hand-written corpus: tables on stdout, counts on stderr, figures
    as JSON (baseline too), and no labelled value anywhere in them."""
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, DOCS)
    out_json = tmp_path / "results" / "latest.json"
    baseline = tmp_path / "baseline.json"
    argv = ["--corpus", str(corpus), "--policies", str(SHIPPED_POLICIES), "--json", str(out_json)]
    code = main([*argv, "--markdown", "--update-baseline", "--baseline", str(baseline)])
    assert code == 0
    captured = capsys.readouterr()
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert json.loads(baseline.read_text(encoding="utf-8"))["systems"] == data["systems"]
    assert data["corpus"]["documents"] == len(DOCS)
    assert len(data["targets"]) == 10
    assert data["machine"]["python"]
    run = run_from_json(data)
    assert run["sidecar"]["all"].leaks.total == len(VALUES)
    assert run["presidio"]["heldout"].documents == 3
    assert "TARGETS" in captured.out
    assert "| Slice |" in captured.out
    blobs = [captured.out, captured.err, out_json.read_text(encoding="utf-8")]
    for value in VALUES:
        assert not any(value in blob for blob in blobs), "a labelled value was printed"


def test_main_refuses_a_partial_baseline(tmp_path: Path) -> None:
    """--update-baseline with --limit would store a guard for another corpus: refused."""
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, DOCS)
    assert main(["--corpus", str(corpus), "--limit", "1", "--update-baseline"]) == 2
    assert main(["--corpus", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["--corpus", str(corpus), "--systems", "nope"]) == 2
