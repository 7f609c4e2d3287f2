"""The two systems under test, on the hand-written corpus: real detector, real Presidio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evaluation.leaks import Screened, leaks
from evaluation.systems import SidecarSystem, StockPresidio, chunked
from governance.policy import Policy
from sidecar.detection import Finding, PresidioDetector
from tests.conftest import SHIPPED_POLICIES
from tests.evaluation.tiny_corpus import DOCS

_BY_ID = {doc.id: doc for doc in DOCS}


@pytest.fixture(scope="module")
def sidecar(detector: PresidioDetector) -> Iterator[SidecarSystem]:
    system = SidecarSystem(SHIPPED_POLICIES, detector=detector)
    yield system
    system.close()


@pytest.fixture(scope="module")
def presidio() -> StockPresidio:
    return StockPresidio()


def test_chunked_covers_the_text() -> None:
    """Stream chunks follow the lengths given and rejoin into the document text."""
    doc = _BY_ID["a3"]
    pieces = chunked(doc)
    assert [len(p) for p in pieces] == list(doc.chunks)
    assert "".join(pieces) == doc.text


def test_sidecar_redacts_and_reports_spans(sidecar: SidecarSystem) -> None:
    """A realistic document comes back redacted, with spans inside the text."""
    doc = _BY_ID["r1"]
    outcome = sidecar.screen(doc)
    assert outcome.output is not None
    assert outcome.predicted is not None
    assert {p.entity for p in outcome.predicted} >= {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    assert all(0 <= p.start < p.end <= len(doc.text) for p in outcome.predicted)
    output = Screened.of(outcome.output)
    assert not any(leaks(doc.value(s), output) for s in doc.spans if s.entity != "PERSON")


def test_sidecar_streams_through_stream_output(sidecar: SidecarSystem) -> None:
    """A chunked document goes through the StreamOutput path: an e-mail address split
    across chunks does not leak, and no spans are reported."""
    doc = _BY_ID["a3"]
    outcome = sidecar.screen(doc)
    assert outcome.output is not None
    assert outcome.predicted is None
    assert not leaks(doc.value(doc.spans[0]), Screened.of(outcome.output))
    assert outcome.output.startswith("Sure, write to ")
    # A second stream on the same system works too (one event loop for all streams).
    assert sidecar.screen(doc).output == outcome.output


def test_sidecar_leaves_negative_documents_alone(sidecar: SidecarSystem) -> None:
    """A document without personal values comes back unchanged."""
    doc = _BY_ID["n2"]
    assert sidecar.screen(doc).output == doc.text


def test_sidecar_unknown_policy_name_raises() -> None:
    """A policy name not in the file is refused before anything loads."""
    with pytest.raises(ValueError, match="unknown policy"):
        SidecarSystem(SHIPPED_POLICIES, policy_name="no-such-policy")


def test_presidio_redacts_and_streams_per_chunk(presidio: StockPresidio) -> None:
    """Stock Presidio returns output and spans; chunked documents are screened per chunk."""
    doc = _BY_ID["r1"]
    outcome = presidio.screen(doc)
    assert outcome.output is not None
    assert outcome.predicted
    assert all(0 <= p.start < p.end <= len(doc.text) for p in outcome.predicted)
    streamed = presidio.screen(_BY_ID["a3"])
    assert streamed.output is not None
    assert streamed.predicted is None


class RaisingDetector:
    """A detector that always raises (a fault a real pipeline cannot be made to have)."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise RuntimeError("detector broke")


def test_system_failure_is_a_result() -> None:
    """A system that raises yields no output for that document, and the run goes on."""
    broken = SidecarSystem(SHIPPED_POLICIES, detector=RaisingDetector())
    outcome = broken.screen(_BY_ID["r1"])
    assert outcome.output is None
    assert outcome.predicted is None
    broken.close()
