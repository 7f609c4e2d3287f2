"""Cutting long texts into stretches: every character owned once, margins of whole lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.finding import Finding
from sidecar.stretches import Stretch, stretches

_TEXT = st.text(alphabet=st.sampled_from("ab \n\n.,"), min_size=0, max_size=3_000)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, count=st.integers(1, 4), margin=st.integers(0, 400))
def test_own_ranges_partition_the_text(text: str, count: int, margin: int) -> None:
    cut = stretches(text, count, margin=margin)
    assert len(cut) <= count
    cursor = 0
    for stretch in cut:
        assert stretch.own_lo == cursor
        assert stretch.own_lo < stretch.own_hi
        assert stretch.lo <= stretch.own_lo
        assert stretch.own_hi <= stretch.hi <= len(text)
        cursor = stretch.own_hi
    assert cursor == len(text)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, count=st.integers(2, 4), margin=st.integers(0, 400))
def test_margins_are_whole_lines_at_least_margin_wide(text: str, count: int, margin: int) -> None:
    for stretch in stretches(text, count, margin=margin):
        assert stretch.lo == 0 or text[stretch.lo - 1] == "\n"
        assert stretch.hi == len(text) or text[stretch.hi] == "\n"
        assert stretch.lo == 0 or stretch.own_lo - stretch.lo >= margin
        assert stretch.hi == len(text) or stretch.hi - stretch.own_hi >= margin


def test_cuts_prefer_paragraph_breaks() -> None:
    paragraph = ("word " * 300).strip()
    text = "\n\n".join([paragraph] * 8)
    cut = stretches(text, 2, margin=100)
    assert len(cut) == 2
    assert text[cut[1].own_lo - 2 : cut[1].own_lo] == "\n\n"
    # The break nearest the middle: after the fourth paragraph.
    assert cut[1].own_lo == 4 * (len(paragraph) + 2)


def test_a_text_with_no_break_is_still_cut() -> None:
    text = "x" * 50_000
    cut = stretches(text, 2, margin=1_000)
    assert [(s.own_lo, s.own_hi) for s in cut] == [(0, 25_000), (25_000, 50_000)]
    # No line break to widen to: the margins run to the text's ends.
    assert cut[0].hi == len(text)
    assert cut[1].lo == 0


def test_owned_findings_move_to_text_offsets_and_start_inside() -> None:
    stretch = Stretch(lo=100, hi=400, own_lo=150, own_hi=350)
    findings = [
        Finding("PERSON", 10, 20, 0.9),  # 110: margin, the stretch before answers for it
        Finding("PERSON", 50, 60, 0.9),  # 150: first owned character
        Finding("EMAIL_ADDRESS", 240, 290, 1.0),  # 340..390: starts inside, ends in margin
        Finding("PERSON", 250, 260, 0.9),  # 350: the next stretch's
    ]
    assert stretch.owned(findings) == (
        Finding("PERSON", 150, 160, 0.9),
        Finding("EMAIL_ADDRESS", 340, 390, 1.0),
    )
