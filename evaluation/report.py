"""The evaluation's plain-text and Markdown tables and its JSON document.

Formatting only, from `Figures` and `Target`s: counts, rates, ids, type names. No text
of the corpus ever reaches a table or the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.report import text_table
from evaluation.score import Figures, Rate
from evaluation.targets import Target

__all__ = ["SLICE_ROWS", "SystemRun", "format_markdown", "format_text", "run_from_json"]

# Slices shown in the summary: each part, then the held-out documents of all parts.
SLICE_ROWS = ("all", "realistic", "adversarial", "negative", "heldout")
Run = Mapping[str, Mapping[str, Figures]]  # system name -> slice name -> figures


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.2f}%"


def _rate(rate: Rate) -> str:
    return f"{_pct(rate.rate)} ({rate.hits}/{rate.total})" if rate.total else "n/a"


def _ratio(ours: Rate, theirs: Rate) -> str:
    if ours.rate is None or theirs.rate is None:
        return "n/a"
    if theirs.rate == 0:
        return "=" if ours.rate == 0 else "inf"
    return f"{ours.rate / theirs.rate:.2f}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


class SystemRun:
    """Names of the systems in a run, in display order, with a lookup that tolerates a
    system that was not run (its cells read n/a)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.names = list(run)

    def figures(self, system: str, slice_name: str) -> Figures:
        return self.run.get(system, {}).get(slice_name, Figures())


def _summary_lines(view: SystemRun) -> list[str]:
    header = ["slice", "system", "docs", "failed", "leak rate", "direct-id leak", "over-redaction"]
    rows = []
    for slice_name in SLICE_ROWS:
        for system in view.names:
            f = view.figures(system, slice_name)
            rows.append(
                [
                    slice_name,
                    system,
                    str(f.documents),
                    str(f.failures),
                    _rate(f.leaks),
                    _rate(f.direct),
                    _rate(f.over_redaction),
                ]
            )
    return text_table(header, rows)


def _entity_lines(view: SystemRun, slice_name: str) -> list[str]:
    names = view.names
    entities = sorted({e for s in names for e in view.figures(s, slice_name).by_entity})
    header = ["entity", "values"]
    header += [f"leak {s}" for s in names]
    if len(names) == 2:
        header.append("ratio")
    for system in names:
        header += [f"P {system}", f"R {system}", f"F2 {system}"]
    rows = []
    for entity in entities:
        found = [view.figures(s, slice_name).by_entity.get(entity) for s in names]
        leaks = [f.leaks if f else Rate() for f in found]
        row = [entity, str(max(rate.total for rate in leaks))]
        row += [_pct(rate.rate) for rate in leaks]
        if len(names) == 2:
            row.append(_ratio(leaks[0], leaks[1]))
        for f in found:
            spans = f.spans if f else None
            row += [_num(spans.precision if spans else None)]
            row += [_num(spans.recall if spans else None), _num(spans.f2 if spans else None)]
        rows.append(row)
    micro = ["(micro)", "", *("" for _ in names), *([""] if len(names) == 2 else [])]
    for system in names:
        spans = view.figures(system, slice_name).spans
        micro += [_num(spans.precision), _num(spans.recall), _num(spans.f2)]
    rows.append(micro)
    return text_table(header, rows)


def _obfuscation_lines(view: SystemRun, slice_name: str) -> list[str]:
    names = view.names
    kinds = sorted({k for s in names for k in view.figures(s, slice_name).by_obfuscation})
    header = ["obfuscation", "values", *(f"leak {s}" for s in names)]
    rows = []
    for kind in kinds:
        rates = [view.figures(s, slice_name).by_obfuscation.get(kind, Rate()) for s in names]
        rows.append([kind, str(max(r.total for r in rates)), *(_pct(r.rate) for r in rates)])
    return text_table(header, rows)


def _target_lines(targets: Sequence[Target]) -> list[str]:
    if not targets:
        return ["  (not checked: needs both systems)"]
    return [
        f"  {'PASS' if t.passed else 'FAIL'}  [{t.scope}] {t.name}: {t.detail}" for t in targets
    ]


def format_text(run: Run, targets: Sequence[Target], *, heading: Sequence[str] = ()) -> str:
    """The plain-text report `python -m evaluation` prints."""
    view = SystemRun(run)
    out = [*heading, "", "Leak rate, direct-identifier leak rate and over-redaction, by part"]
    out += _summary_lines(view)
    out += ["", "Per entity type (all documents; P/R/F2 over non-streamed documents)"]
    out += _entity_lines(view, "all")
    out += ["", "Per entity type, held-out templates only"]
    out += _entity_lines(view, "heldout")
    out += ["", "Per obfuscation kind (adversarial values)"]
    out += _obfuscation_lines(view, "all")
    out += ["", "TARGETS", *_target_lines(targets)]
    return "\n".join(out)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def format_markdown(run: Run, targets: Sequence[Target]) -> str:
    """The summary as Markdown tables, for the README."""
    view = SystemRun(run)
    header = ["Slice"]
    for system in view.names:
        header += [f"{system} leak", f"{system} direct-id leak", f"{system} over-redaction"]
    rows = []
    for slice_name in SLICE_ROWS:
        row = [slice_name]
        for system in view.names:
            f = view.figures(system, slice_name)
            row += [_pct(f.leaks.rate), _pct(f.direct.rate), _pct(f.over_redaction.rate)]
        rows.append(row)
    out = _md_table(header, rows)
    entities = sorted({e for s in view.names for e in view.figures(s, "all").by_entity})
    header = ["Entity", "Values", *(f"{s} leak" for s in view.names)]
    header += [f"{s} F2" for s in view.names]
    rows = []
    for entity in entities:
        found = [view.figures(s, "all").by_entity.get(entity) for s in view.names]
        total = max((f.leaks.total for f in found if f), default=0)
        row = [entity, str(total)]
        row += [_pct(f.leaks.rate if f else None) for f in found]
        row += [_num(f.spans.f2 if f else None) for f in found]
        rows.append(row)
    out += ["", *_md_table(header, rows)]
    if targets:
        rows = [[t.scope, t.name, "PASS" if t.passed else "FAIL"] for t in targets]
        out += ["", *_md_table(["Scope", "Target", "Result"], rows)]
    return "\n".join(out)


def run_from_json(data: Mapping[str, Any]) -> dict[str, dict[str, Figures]]:
    """The per-system, per-slice figures of a JSON document written by the evaluation."""
    return {
        name: {s: Figures.from_json(f) for s, f in system["slices"].items()}
        for name, system in data["systems"].items()
    }
