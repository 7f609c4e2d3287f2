"""What a detection's memory zone gives the words it reads (`detection._TextZone`)."""

from __future__ import annotations

import pytest

from bench import corpus
from governance.policy import Policies
from sidecar.detection import _READ_NAMES, PresidioDetector, _reads_only


def test_the_model_finds_the_same_with_only_the_attributes_detection_reads(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    policy = shipped_policies.default
    docs = corpus.generate(5, {"200B": 20, "2KB": 10, "20KB": 1, "100KB": 0})
    jobs = []
    for doc in docs:
        layered = detector.layers(doc.text, policy, share_above=0)
        view = layered.view.text
        jobs.append((view, detector.model_regions(view, policy, layered.found)))
    fewer = [detector.model(view, policy, regions) for view, regions in jobs]
    zone = detector._screens[policy.name].zone
    read = zone._read
    zone._read = dict(zone._nlp.vocab.lex_attr_getters)
    try:
        every = [detector.model(view, policy, regions) for view, regions in jobs]
    finally:
        zone._read = read
    assert fewer == every
    assert sum(len(found) for found in every) > 20  # the model did find entities


def test_a_zone_gives_new_words_fewer_attributes_only_inside_it(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    zone = detector._screens[shipped_policies.default.name].zone
    vocab = zone._nlp.vocab
    every = vocab.lex_attr_getters
    assert len(zone._read) < len(every)
    with zone():
        assert vocab.lex_attr_getters is zone._read
        with zone():  # a zone inside one: the outer's
            assert vocab.lex_attr_getters is zone._read
        assert vocab.lex_attr_getters is zone._read
        word = vocab["zq7Kettleworth"]
        assert word.lower_ == "zq7kettleworth"
        assert word.shape_ == "xxdXxxxx"
        assert not word.is_stop
        assert vocab["and"].is_stop
    assert vocab.lex_attr_getters is every
    assert not detector.holds("zq7Kettleworth")
    # Inside a zone another caller opened, words may outlive this one: all attributes.
    with zone._nlp.memory_zone(), zone():
        assert vocab.lex_attr_getters is every
    with pytest.raises(RuntimeError), zone():
        raise RuntimeError
    assert vocab.lex_attr_getters is every


class _Pipeline:
    def __init__(self, config: dict[str, object]) -> None:
        self.config = config


def test_only_a_pipeline_reading_no_other_attributes_gets_fewer(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    zone = detector._screens[shipped_policies.default.name].zone
    assert _reads_only(zone._nlp, _READ_NAMES)  # the shipped pipeline: NER features only
    embed = {"model": {"tok2vec": {"embed": {"attrs": ["NORM", "PREFIX", "LIKE_NUM"]}}}}
    assert not _reads_only(_Pipeline({"components": {"ner": embed}}), _READ_NAMES)
    assert not _reads_only(_Pipeline({"components": {}}), _READ_NAMES)  # names none
