"""`python -m bench.stages [SIZE]`: where detection's time goes, stage by stage.

Times, in this process and with single-threaded BLAS (as each detection worker runs), the
stages of `PresidioDetector.detect` on the benchmark corpus's texts of one size class
(default 2KB), each stage on its own, then the whole call; prints milliseconds per text
(mean over the texts, three passes). The table in bench/README.md ("Where the time goes")
comes from this. Reaches into the detector's per-policy set-up: a profiling tool, not API.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from sidecar.workers import ONE_THREAD  # imports no numpy

for _name in ONE_THREAD:
    os.environ.setdefault(_name, "1")  # before numpy is imported, as in the workers

from bench import corpus  # noqa: E402 - after the thread settings above
from governance.policy import load_policies_file  # noqa: E402
from sidecar.detection import PresidioDetector  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
_PASSES = 3
STAGES = (
    "de-obfuscation view",
    "names layer",
    "addresses layer",
    "NER model",
    "phone numbers",
    "other recognizers",
    "detect, total",
)


def measure(size_class: str) -> dict[str, float]:
    """Milliseconds per text for each stage."""
    policies = load_policies_file(REPO / "policies.yaml")
    policy = policies.default
    detector = PresidioDetector(policies)
    screen = detector._screens[policy.name]
    analyzer = screen.analyzer
    entities = list(policy.detection.entities)
    recognizers = analyzer.registry.get_recognizers(language="en", entities=entities)
    texts = [doc.text for doc in corpus.generate(1234) if doc.size_class == size_class]
    for text in texts[:2]:
        detector.detect(text, policy)  # warm
    spent: dict[str, float] = defaultdict(float)

    def timed(stage: str, started: float) -> None:
        spent[stage] += time.perf_counter() - started

    for _ in range(_PASSES):
        for text in texts:
            started = time.perf_counter()
            view = detector.finisher.view(text, policy)
            timed("de-obfuscation view", started)
            found = []
            for stage, layer in (
                ("names layer", screen.names),
                ("addresses layer", screen.addresses),
            ):
                started = time.perf_counter()
                found.extend(layer.find(view.text) if layer is not None else [])
                timed(stage, started)
            started = time.perf_counter()
            regions = detector.model_regions(view.text, policy, found)
            detector.model(view.text, policy, regions)
            artifacts = screen.no_artifacts
            timed("NER model", started)
            for recognizer in recognizers:
                started = time.perf_counter()
                recognizer.analyze(text=view.text, entities=entities, nlp_artifacts=artifacts)
                timed(
                    "phone numbers" if "Phone" in recognizer.name else "other recognizers", started
                )
            started = time.perf_counter()
            detector.detect(text, policy)
            timed("detect, total", started)
    count = _PASSES * len(texts)
    return {stage: 1000 * spent[stage] / count for stage in STAGES}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    size_class = args[0] if args else "2KB"
    if size_class not in corpus.SIZE_CLASSES:
        print(f"size class must be one of {', '.join(corpus.SIZE_CLASSES)}", file=sys.stderr)
        return 2
    for stage, ms in measure(size_class).items():
        print(f"{stage:22} {ms:8.1f} ms per text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
