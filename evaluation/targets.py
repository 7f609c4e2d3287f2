"""The detection-quality targets, and the regression check against a stored baseline.

Pure comparisons of `Figures` (counts and rates): no text. Ratios are compared on the
counts themselves (hits_a * total_b <= k * hits_b * total_a), so a target right on its
bound is not decided by floating-point rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from evaluation.labels import PARTS
from evaluation.score import EntityFigures, Figures, Rate

__all__ = ["SCOPES", "TOLERANCE", "Regression", "Target", "check_targets", "regressions"]

Slices = Mapping[str, Figures]
# Where the targets are checked: the whole corpus, then held-out templates alone.
SCOPES = {"all": "", "heldout": "heldout:"}
TOLERANCE = 0.002  # absolute, for rates; or one document/value if that is larger
_DIRECT_BOUNDS = {"realistic": Fraction(5, 1000), "adversarial": Fraction(5, 100)}


@dataclass(frozen=True, slots=True)
class Target:
    scope: str
    name: str
    passed: bool
    detail: str  # counts and rates only

    def to_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
        }


def _pct(rate: Rate) -> str:
    value = rate.rate
    return "n/a" if value is None else f"{100 * value:.2f}% ({rate.hits}/{rate.total})"


def _at_most(ours: Rate, theirs: Rate, share: Fraction) -> bool:
    """ours.rate <= share * theirs.rate; with no data on either side there is nothing to
    fail. A zero on their side needs a zero on ours."""
    if ours.total == 0 or theirs.total == 0:
        return True
    return ours.hits * theirs.total * share.denominator <= (
        share.numerator * theirs.hits * ours.total
    )


def _ratio_target(scope: str, name: str, ours: Rate, theirs: Rate, share: Fraction) -> Target:
    detail = f"sidecar {_pct(ours)} vs presidio {_pct(theirs)}, bound {share} of presidio"
    return Target(scope, name, _at_most(ours, theirs, share), detail)


def check_targets(sidecar: Slices, presidio: Slices) -> list[Target]:
    """Every target in every scope, PASS or FAIL, sidecar against Presidio."""
    out: list[Target] = []
    for scope, prefix in SCOPES.items():
        ours, theirs = sidecar[scope], presidio[scope]
        out.append(
            _ratio_target(
                scope,
                "overall leak rate <= 1/4 of Presidio's",
                ours.leaks,
                theirs.leaks,
                Fraction(1, 4),
            )
        )
        worse = []
        for entity, figures in sorted(ours.by_entity.items()):
            their = theirs.by_entity.get(entity, EntityFigures())
            if not _at_most(figures.leaks, their.leaks, Fraction(1, 2)):
                worse.append(f"{entity} {_pct(figures.leaks)} vs {_pct(their.leaks)}")
        out.append(
            Target(
                scope,
                "every entity type's leak rate <= 1/2 of Presidio's",
                not worse,
                "; ".join(worse) or "all types within bound",
            )
        )
        for part, bound in _DIRECT_BOUNDS.items():
            rate = sidecar[prefix + part].direct
            passed = rate.total == 0 or rate.hits < bound * rate.total
            out.append(
                Target(
                    scope,
                    f"direct identifiers < {float(bound) * 100:g}% on {part}",
                    passed,
                    f"sidecar {_pct(rate)}",
                )
            )
        out.append(
            _ratio_target(
                scope,
                "over-redaction <= 1/4 of Presidio's",
                ours.over_redaction,
                theirs.over_redaction,
                Fraction(1, 4),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Regression:
    figure: str
    baseline: Rate
    now: Rate

    def __str__(self) -> str:
        return f"{self.figure}: {_pct(self.now)} now, {_pct(self.baseline)} in the baseline"


def _worse(now: Rate, baseline: Rate) -> bool:
    if now.total == 0 or now.rate is None:
        return False
    allowed = max(TOLERANCE, 1 / now.total)
    return now.rate - (baseline.rate or 0.0) > allowed


def regressions(now: Slices, baseline: Slices) -> list[Regression]:
    """Figures that got worse than the baseline by more than the tolerance: the overall,
    per-part and direct-identifier leak rates, and over-redaction."""
    checked: list[tuple[str, str, str]] = [
        ("overall leak rate", "all", "leaks"),
        *((f"{part} leak rate", part, "leaks") for part in PARTS),
        ("direct-identifier leak rate", "all", "direct"),
        ("over-redaction", "all", "over_redaction"),
    ]
    found = []
    for figure, slice_name, attribute in checked:
        ours: Rate = getattr(now[slice_name], attribute)
        theirs: Rate = getattr(baseline[slice_name], attribute)
        if _worse(ours, theirs):
            found.append(Regression(figure, theirs, ours))
    return found
