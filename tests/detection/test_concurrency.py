"""In-process detection from many threads at once, as the server runs it without workers.

Each detection reads spaCy inside a memory zone (`detection._TextZone`), which swaps the
vocabulary's allocator for the whole pipeline; threads must take turns, or one thread's
zone frees words another is still reading.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bench import corpus
from governance.policy import Policies
from sidecar.detection import PresidioDetector


def test_threads_at_once_find_what_one_thread_finds(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    policy = shipped_policies.default
    docs = corpus.generate(11, {"200B": 16, "2KB": 8, "20KB": 1, "100KB": 0})
    texts = [doc.text for doc in docs]
    alone = [detector.detect(text, policy) for text in texts]
    before = detector.held_strings()
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda text: detector.detect(text, policy), texts * 3))
    assert together == alone * 3
    assert detector.held_strings() == before
