"""PII detection: the Detector protocol and its Presidio + spaCy implementation.

With the recognizer modules (`recognizers.py`: Presidio's recognizers, corrected and
added to; `phones.py`, `pattern_windows.py`, `context_enhancer.py`) the only module that
imports presidio, spacy or thinc. It returns spans
(offsets into the original text), never strings, and never logs what it reads. spaCy
pipelines are loaded once per (language, model) with only the named-entity recognizer;
Presidio's pattern recognizers (checksum-validated: Luhn, IBAN mod-97, SSN rules, ...)
run beside it.

Per text: the de-obfuscated view (`deobfuscate.py`), the name and address layers on it,
the NER model on the stretches that could still hold a name or place (`ner_regions.py`),
Presidio's pattern recognizers on it, then the precision rules (`rules.py`: NER
plausibility, dates, URLs, lookalikes) and the allow-list; findings map back to the
original characters and overlaps merge.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import spacy
import tldextract.tldextract as tld
from presidio_analyzer import (
    AnalyzerEngine,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IDS, IS_PUNCT, IS_SPACE, IS_STOP, LOWER, NORM, PREFIX, SHAPE, SUFFIX
from thinc.api import NumpyOps, set_current_ops

from governance.policy import REGEX_FLAGS, Detection, Policies, Policy
from sidecar import recognizers
from sidecar.addresses import AddressOptions, AddressRecognizer
from sidecar.context_enhancer import LocalContextEnhancer
from sidecar.deobfuscate import DeobfuscationOptions, deobfuscate
from sidecar.finding import Finding
from sidecar.names import NameOptions, NameRecognizer
from sidecar.ner_regions import ner_regions
from sidecar.normalize import Normalized
from sidecar.rules import PrecisionRules, plausible_ner

__all__ = [
    "Detector",
    "Finding",
    "Finisher",
    "Layered",
    "PresidioDetector",
    "merge_overlaps",
    "offline_tldextract",
]

_log = logging.getLogger(__name__)

# NER labels of en_core_web_* mapped to Presidio's entity names. ORGANIZATION is kept
# (Presidio ignores it by default); a policy only gets it if it lists it.
_NER_MAPPING = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "ORG": "ORGANIZATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
NER_ENTITIES = frozenset(_NER_MAPPING.values())
_NER_CHECKED = frozenset({"PERSON", "LOCATION"})
_NER_IGNORED = (
    "CARDINAL",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "WORK_OF_ART",
)


class Detector(Protocol):
    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        """Findings in `text` under `policy`, overlaps merged. May raise anything."""
        ...


def merge_overlaps(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Merge overlapping findings into their union, so no character of any survives.

    The union is labelled by its best member: a pattern match over an NER label, then
    one that contains the other (a phone number over a date-like run of its digits),
    then the higher score, then the longer span.
    """
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    best: Finding | None = None
    for finding in ordered:
        if finding.end <= finding.start:
            continue
        if merged and best is not None and finding.start < merged[-1].end:
            last = merged[-1]
            best = _better(best, finding)
            merged[-1] = Finding(
                best.entity, last.start, max(last.end, finding.end), max(last.score, finding.score)
            )
        else:
            merged.append(finding)
            best = finding
    return tuple(merged)


def _better(a: Finding, b: Finding) -> Finding:
    # A pattern match is a validated structure (checksum, format); an NER label is a
    # guess about words around it ("IBAN FR14..." tagged ORG, digits of a phone tagged
    # DATE). Then a value that contains the other, then score, then length.
    def rank(f: Finding, other: Finding) -> tuple[bool, bool, float, int]:
        contains = f.start <= other.start and other.end <= f.end
        return (f.entity not in NER_ENTITIES, contains, f.score, f.end - f.start)

    return a if rank(a, b) >= rank(b, a) else b


def offline_tldextract() -> None:
    """Make tldextract use its bundled public-suffix snapshot: no download, no cache file.

    Presidio's e-mail validation calls tldextract.extract(), which would otherwise fetch
    the suffix list from the Internet on first use.
    """
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)


class NerOnlySpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine running only `ner` (en_core_web_sm's NER has its own
    tok2vec, so tagger, parser and lemmatizer can go); never downloads a pipeline."""

    def __init__(self, language: str, model: str) -> None:
        config = NerModelConfiguration(
            model_to_presidio_entity_mapping=_NER_MAPPING, labels_to_ignore=list(_NER_IGNORED)
        )
        super().__init__(
            models=[{"lang_code": language, "model_name": model}], ner_model_configuration=config
        )
        self._language = language
        self._model = model

    def load(self) -> None:
        if not spacy.util.is_package(self._model):
            raise LookupError("spaCy pipeline is not installed")
        meta = spacy.util.get_model_meta(spacy.util.get_package_path(self._model))
        others = [
            name for name in meta.get("components", meta.get("pipeline", ())) if name != "ner"
        ]
        # numpy's matrix product (OpenBLAS) instead of blis: the NER model's matrices are
        # small, and it runs a fifth faster here with the same entities (checked on the
        # bench and labelled corpora). The model's layers keep the ops current when they
        # are built (current ops are per thread: a worker detects on the thread that
        # loaded it, and in-process detection threads use the layers' own).
        set_current_ops(NumpyOps(use_blis=False))
        # Excluded components are never loaded (no weights read, no memory held).
        nlp = spacy.load(self._model, exclude=others)
        if "ner" not in nlp.pipe_names:
            raise LookupError("spaCy pipeline has no ner component")
        # spaCy's 1M-character guard protects the parser's memory; NER alone is linear,
        # and our own limit is max_input_bytes.
        nlp.max_length = 100_000_000
        self.nlp = {self._language: nlp}  # type: ignore[assignment]  # base declares None

    def entities(
        self, text: str, language: str, regions: Sequence[tuple[int, int]]
    ) -> list[Finding]:
        """The model's named entities in `regions` of `text`, labelled and scored as
        Presidio's SpacyRecognizer labels and scores them. Only the regions become spaCy
        Docs: Presidio makes one of the whole text and a Python object per token of it,
        a third of the NER stage's time on long texts."""
        nlp = self.nlp[language]  # type: ignore[index]  # base declares None
        config = self.ner_model_configuration
        found = []
        parts = nlp.pipe(text[start:end] for start, end in regions)
        for (start, _), part in zip(regions, parts, strict=True):
            for entity in part.ents:
                label = _NER_MAPPING.get(entity.label_)
                if label is None:
                    continue
                score = float(config.default_score or 0.0)
                if label in (config.low_score_entity_names or ()):
                    score *= float(config.low_confidence_score_multiplier or 1.0)
                found.append(
                    Finding(label, start + entity.start_char, start + entity.end_char, score)
                )
        return found


# The lexical attributes detection reads of a word: the NER model's features (its
# config's embedding attributes) and the whitespace check of its moves; the context
# enhancer's lower case, stop-word and punctuation flags. A pipeline whose model reads
# others (`_reads_only`) gets every attribute.
_READ = (NORM, PREFIX, SUFFIX, SHAPE, IS_SPACE, LOWER, IS_STOP, IS_PUNCT)
# Their names as a config gives them, with what every token has anyway (its text and
# whether a space follows).
_READ_NAMES = frozenset(name for name, attr in IDS.items() if attr in _READ) | {"ORTH", "SPACY"}


def _reads_only(nlp: Any, names: frozenset[str]) -> bool:
    """Whether every attribute the pipeline's components name in their config (the
    embedding layers' `attrs`) is one of `names`, and some are named."""
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "attrs" and isinstance(value, list):
                    named.update(str(attr) for attr in value)
                else:
                    walk(value)

    walk(nlp.config.get("components", {}))
    return bool(named) and named <= names


class _TextZone:
    """What spaCy keeps of the texts it reads, dropped when each detection ends.

    spaCy adds every new word it tokenises to its vocabulary (a string and a lexeme) and
    to its tokenizer's cache, for good: in a long-running server, every name, id and
    e-mail part ever screened, kept for the life of the process and growing without
    bound. Inside a memory zone (spaCy 3.8) those additions are transient and removed
    when it ends, so a text's words live only as long as its detection. A zone swaps
    the vocabulary's allocator for the whole pipeline: one thread at a time, and a call
    made inside another zone shares the outer one.

    Since no word outlives the zone, each is looked up afresh, and a new word's lexeme
    gets every lexical attribute the language defines: 23 Python functions a word, a
    fifth of tokenising. Inside its own zone, a new word gets only the attributes
    detection reads (`_READ`); the zone drops those lexemes before anything else can
    read them."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self._lock = threading.RLock()
        self.strings = nlp.vocab.strings
        getters = nlp.vocab.lex_attr_getters
        self._read = (
            {attr: getters[attr] for attr in _READ if attr in getters}
            if _reads_only(nlp, _READ_NAMES)
            else getters
        )

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            vocab = self._nlp.vocab
            if vocab.in_memory_zone:
                yield
                return
            every = vocab.lex_attr_getters
            with self._nlp.memory_zone():
                vocab.lex_attr_getters = self._read
                try:
                    yield
                finally:
                    vocab.lex_attr_getters = every


@dataclass(frozen=True, slots=True)
class _Screen:
    """Everything one policy's detection uses, built once at start."""

    analyzer: Any
    zone: _TextZone
    names: NameRecognizer | None
    addresses: AddressRecognizer | None
    ner_scope: str
    entities: frozenset[str]
    # What the pattern recognizers get as NLP results: nothing. The model's entities
    # come from `NerOnlySpacyEngine.entities` and context words from
    # `LocalContextEnhancer`, so no recognizer needs the whole text tokenised.
    no_artifacts: NlpArtifacts


class PresidioDetector:
    """Presidio AnalyzerEngine per named policy, sharing one spaCy pipeline per model,
    plus our layers: de-obfuscation, names, addresses and precision rules."""

    def __init__(self, policies: Policies) -> None:
        offline_tldextract()
        # Some Presidio recognizers log matched text (the IBAN validator does, at ERROR).
        presidio_log = logging.getLogger("presidio-analyzer")
        presidio_log.setLevel(logging.CRITICAL + 1)
        presidio_log.propagate = False
        engines: dict[tuple[str, str], Any] = {}
        self._zones: dict[tuple[str, str], _TextZone] = {}  # one per pipeline
        self._screens: dict[str, _Screen] = {}
        for name, policy in policies.policies.items():
            detection = policy.detection
            key = (detection.language, detection.spacy_model)
            if key not in engines:
                try:
                    engines[key] = NerOnlySpacyEngine(*key)
                    engines[key].load()
                    self._zones[key] = _TextZone(engines[key].nlp[detection.language])
                except (LookupError, OSError, ValueError):
                    raise policies.error(
                        ("policies", name, "detection", "spacy_model"),
                        f"spaCy pipeline {detection.spacy_model!r} is not installed or "
                        "cannot be loaded",
                    ) from None
            registry = self._registry(policy, engines[key])
            supported = set(registry.get_supported_entities(languages=[detection.language]))
            for index, entity in enumerate(detection.entities):
                if entity not in supported:
                    raise policies.error(
                        ("policies", name, "detection", "entities", index),
                        f"no recognizer detects {entity} for language {detection.language!r}"
                        " (add a custom_recognizers or deny_lists entry for it)",
                    )
            analyzer = AnalyzerEngine(
                registry=registry,
                nlp_engine=engines[key],
                supported_languages=[detection.language],
                default_score_threshold=detection.score_threshold,
                context_aware_enhancer=LocalContextEnhancer(engines[key].nlp[detection.language]),
            )
            self._screens[name] = _screen(detection, analyzer, self._zones[key])
        self.finisher = Finisher(policies)

    def holds(self, word: str) -> bool:
        """Whether a spaCy pipeline's vocabulary holds `word`: where a text's words would
        stay after its detection (`_TextZone`). For checks that none does."""
        return any(word in zone.strings for zone in self._zones.values())

    def held_strings(self) -> int:
        """How many strings the spaCy pipelines' vocabularies hold: the same after any
        detection as before it."""
        return sum(len(zone.strings) for zone in self._zones.values())

    @staticmethod
    def _registry(policy: Policy, nlp_engine: Any) -> Any:
        detection = policy.detection
        registry = RecognizerRegistry(
            supported_languages=[detection.language], global_regex_flags=REGEX_FLAGS
        )
        registry.load_predefined_recognizers(languages=[detection.language], nlp_engine=nlp_engine)
        recognizers.install(registry, detection)
        for recognizer in detection.custom_recognizers:
            registry.add_recognizer(
                PatternRecognizer(
                    supported_entity=recognizer.entity,
                    name=f"policy:{recognizer.entity}:{recognizer.patterns[0].name}",
                    supported_language=detection.language,
                    patterns=[Pattern(p.name, p.regex, p.score) for p in recognizer.patterns],
                    context=list(recognizer.context),
                    global_regex_flags=REGEX_FLAGS,
                )
            )
        for entity, values in detection.deny_lists.items():
            registry.add_recognizer(
                PatternRecognizer(
                    supported_entity=entity,
                    name=f"policy:deny:{entity}",
                    supported_language=detection.language,
                    deny_list=list(values),
                    global_regex_flags=REGEX_FLAGS,
                )
            )
        return registry

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        if not text.strip():
            return ()
        layered = self.layers(text, policy)
        found = [*layered.found, *self._patterns(layered.view.text, policy)]
        return self.finisher.finish(layered.view, policy, found)

    # `detect` in jobs, for worker processes to share one text (workers.py): `layers`
    # and `patterns` need nothing from each other; `model` needs the regions `layers`
    # found, and reads each region on its own, so the regions can be shared out too.
    # `Finisher.finish` of the layers' findings, the model's (in region order) and the
    # patterns' is exactly `detect`.

    def layers(self, text: str, policy: Policy, *, share_above: int | None = None) -> Layered:
        """The de-obfuscated view of `text` and the name and address layers' findings on
        it, then the NER model's on the regions it must read; or, with `share_above`,
        when there are two regions or more and they hold more than `share_above`
        characters, those regions unread, for the caller to share out."""
        screen = self._screens[policy.name]
        detection = policy.detection
        view = self.finisher.view(text, policy)
        found: list[Finding] = []
        for layer in (screen.names, screen.addresses):
            if layer is not None:
                found.extend(
                    f for f in layer.find(view.text) if f.score >= detection.score_threshold
                )
        regions = self.model_regions(view.text, policy, found)
        read = sum(end - start for start, end in regions)
        if share_above is not None and len(regions) > 1 and read > share_above:
            return Layered(view, found, regions)
        return Layered(view, [*found, *self.model(view.text, policy, regions)], [])

    def model_regions(
        self, view: str, policy: Policy, found: Sequence[Finding]
    ) -> list[tuple[int, int]]:
        """The regions of the view the NER model must read, given the layers' findings."""
        # Only what could be a name or a place that the layers did not find already
        # (`ner_regions`): the model is most of the cost of detection.
        size = len(view)
        regions = (
            ner_regions(view, [(f.start, f.end) for f in found])
            if self._screens[policy.name].ner_scope == "candidates"
            else [(0, size)]
        )
        if sum(end - start for start, end in regions) >= 0.9 * size:
            return [(0, size)]  # the model reads the whole text then, as one
        return regions

    def model(self, view: str, policy: Policy, regions: Sequence[tuple[int, int]]) -> list[Finding]:
        """The NER model's findings in `regions` of the view, as the policy keeps them."""
        screen = self._screens[policy.name]
        detection = policy.detection
        found: list[Finding] = []
        engine = screen.analyzer.nlp_engine
        with screen.zone():
            entities = engine.entities(view, detection.language, regions)
        for finding in entities:
            if finding.entity not in screen.entities or finding.score < detection.score_threshold:
                continue
            if finding.entity in _NER_CHECKED:
                # The model's span cut to the name's line and past code ("Jane Doe\nDOB").
                plausible = plausible_ner(view, finding)
                if plausible is not None:
                    found.append(plausible)
            else:
                found.append(finding)
        return found

    def patterns(self, text: str, policy: Policy) -> list[Finding]:
        """Presidio's pattern recognizers' findings on the de-obfuscated view of `text`."""
        return self._patterns(self.finisher.view(text, policy).text, policy)

    def _patterns(self, view: str, policy: Policy) -> list[Finding]:
        screen = self._screens[policy.name]
        detection = policy.detection
        with screen.zone():  # the context enhancer tokenises around the matches
            results = screen.analyzer.analyze(
                text=view,
                language=detection.language,
                entities=list(detection.entities),
                score_threshold=detection.score_threshold,
                nlp_artifacts=screen.no_artifacts,
            )
        return [
            Finding(str(r.entity_type), int(r.start), int(r.end), float(r.score)) for r in results
        ]


@dataclass(frozen=True, slots=True)
class Layered:
    """What `PresidioDetector.layers` found (offsets into `view.text`), and the regions
    the NER model has yet to read."""

    view: Normalized
    found: list[Finding]
    regions: list[tuple[int, int]]


class Finisher:
    """The ends of detection that need no model, per policy: the de-obfuscated view a
    text is screened on, and the precision rules, mapping back to the original text and
    merging of overlaps that finish it. The owner process finishes a text whose jobs
    two workers shared (`workers.ProcessDetector`)."""

    def __init__(self, policies: Policies) -> None:
        self._steps = {
            name: (_deobfuscation_options(policy.detection), PrecisionRules(policy.detection))
            for name, policy in policies.policies.items()
        }

    def view(self, text: str, policy: Policy) -> Normalized:
        return deobfuscate(text, self._steps[policy.name][0])

    def finish(
        self, view: Normalized, policy: Policy, found: Sequence[Finding]
    ) -> tuple[Finding, ...]:
        """`found` (offsets into `view`) through the precision rules, mapped back to
        the original text, overlaps merged."""
        kept = self._steps[policy.name][1].apply(view.text, list(found))
        return merge_overlaps(_to_original(kept, view.to_original))


def _deobfuscation_options(detection: Detection) -> DeobfuscationOptions:
    deobfuscation = detection.deobfuscation
    return DeobfuscationOptions(
        homoglyphs=deobfuscation.homoglyphs,
        split_digits=deobfuscation.split_digits,
        split_values=deobfuscation.split_values,
        spelled_digits=deobfuscation.spelled_digits,
        obfuscated_email=deobfuscation.obfuscated_email,
        encoded=deobfuscation.encoded,
        min_joined_digits=deobfuscation.min_joined_digits,
    )


def _screen(detection: Detection, analyzer: Any, zone: _TextZone) -> _Screen:
    entities = set(detection.entities)
    names = detection.names
    addresses = detection.addresses
    return _Screen(
        analyzer=analyzer,
        zone=zone,
        names=(
            NameRecognizer(
                NameOptions(
                    context=names.context,
                    lists=names.lists,
                    titles=names.titles,
                    any_case=names.any_case,
                )
            )
            if "PERSON" in entities and (names.context or names.lists or names.titles)
            else None
        ),
        ner_scope=detection.ner_scope,
        entities=frozenset(entities),
        no_artifacts=NlpArtifacts(
            entities=[],
            tokens=analyzer.nlp_engine.nlp[detection.language].make_doc(""),
            tokens_indices=[],
            lemmas=[],
            nlp_engine=analyzer.nlp_engine,
            language=detection.language,
        ),
        addresses=(
            AddressRecognizer(
                AddressOptions(
                    streets=addresses.streets,
                    postcodes=frozenset(addresses.postcodes),
                    cities=addresses.cities,
                )
            )
            if "LOCATION" in entities
            and (addresses.streets or addresses.cities or addresses.postcodes)
            else None
        ),
    )


def _to_original(
    findings: Iterable[Finding], to_original: Callable[[int, int], tuple[int, int]]
) -> list[Finding]:
    mapped = []
    for finding in findings:
        start, end = to_original(finding.start, finding.end)
        mapped.append(Finding(finding.entity, start, end, finding.score))
    return mapped


def entity_counts(findings: Iterable[Finding]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.entity] = counts.get(finding.entity, 0) + 1
    return counts
