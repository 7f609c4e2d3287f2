"""policies.yaml loading: every bad file names the offending key and its line; good files load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from governance.errors import PolicyError
from governance.policy import Policies, load_policies, load_policies_file
from sidecar.detection import PresidioDetector

HERE = Path(__file__).resolve().parent
BAD = HERE / "bad"
SHIPPED = HERE.parent.parent / "policies.yaml"

# file -> acceptable (dotted key path, line) pairs; None as key: the file has no key at fault.
# Two pairs where two keys contradict each other and naming either one is right.
Expected = tuple[tuple[str | None, int], ...]
BAD_FILES: dict[str, Expected] = {
    "bad_unknown_top_level_key.yaml": (("colour", 3),),
    "bad_unknown_nested_key.yaml": (("policies.main.detection.score_treshold", 8),),
    "bad_string_for_int.yaml": (("policies.main.detection.timeout_ms", 8),),
    "bad_string_yes_for_bool.yaml": (("policies.main.inference.restore_output", 10),),
    "bad_list_for_mapping.yaml": (("policies.main.inference", 8),),
    "bad_regex.yaml": (("policies.main.detection.custom_recognizers.0.patterns.0.regex", 13),),
    "bad_pattern_score_above_one.yaml": (
        ("policies.main.detection.custom_recognizers.0.patterns.0.score", 14),
    ),
    "bad_score_threshold_negative.yaml": (("policies.main.detection.score_threshold", 6),),
    "bad_duplicate_top_level_key.yaml": (("default", 8),),
    "bad_duplicate_nested_key.yaml": (("policies.main.actions.PERSON", 11),),
    "bad_invalid_yaml.yaml": ((None, 5),),
    "bad_top_level_list.yaml": ((None, 1),),
    "bad_empty.yaml": ((None, 1),),
    "bad_default_missing_policy.yaml": (("default", 7),),
    "bad_extends_missing_policy.yaml": (("policies.child.extends", 9),),
    "bad_extends_cycle.yaml": (("policies.first.extends", 9), ("policies.second.extends", 11)),
    "bad_action_entity_not_detected.yaml": (("policies.main.actions.EMAIL_ADDRESS", 11),),
    "bad_keep_last_without_mask.yaml": (
        ("policies.main.actions.PERSON.keep_last", 11),
        ("policies.main.actions.PERSON.action", 10),
    ),
    "bad_ttl_above_max.yaml": (
        ("policies.main.inference.ttl_seconds", 10),
        ("policies.main.inference.max_ttl_seconds", 9),
    ),
    "bad_deny_list_entity_not_listed.yaml": (
        ("policies.main.detection.deny_lists.PROJECT_NAME", 9),
    ),
    "bad_custom_recognizer_entity_not_listed.yaml": (
        ("policies.main.detection.custom_recognizers.0.entity", 9),
    ),
    "bad_entity_not_upper_case.yaml": (("policies.main.detection.entities.1", 8),),
    "bad_deny_list_entity_not_upper_case.yaml": (
        ("policies.main.detection.deny_lists.project_name", 9),
    ),
    "bad_action_entity_not_upper_case.yaml": (("policies.main.actions.person", 10),),
    "bad_date_mode_unknown.yaml": (("policies.main.detection.dates.mode", 8),),
    "bad_ner_scope_unknown.yaml": (("policies.main.detection.ner_scope", 7),),
    "bad_phone_region_lower_case.yaml": (("policies.main.detection.phone_regions.1", 7),),
    "bad_deobfuscation_unknown_rule.yaml": (("policies.main.detection.deobfuscation.rot13", 9),),
    "bad_names_string_for_bool.yaml": (("policies.main.detection.names.any_case", 8),),
    "bad_lookalike_cues_empty.yaml": (("policies.main.detection.lookalikes.order_cues", 8),),
}

MINIMAL = """\
version: "7"
default: main
policies:
  main:
    detection:
      entities:
        - PERSON
        - EMAIL_ADDRESS
"""


def _names_key(message: str, key: str) -> bool:
    """Does `message` name `key` as a whole dotted path (not a prefix of a longer one)?"""
    return re.search(rf"(?<![\w.\[]){re.escape(key)}(?![\w.\[])", message) is not None


def _error_of(text: str, source: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policies(text, source=source)
    return caught.value


def test_bad_files_table_lists_every_bad_file() -> None:
    """Every tests/policy/bad/bad_*.yaml has an expectation, and every expectation a file."""
    assert sorted(p.name for p in BAD.glob("bad_*.yaml")) == sorted(BAD_FILES)


@pytest.mark.parametrize(("name", "expected"), sorted(BAD_FILES.items()), ids=sorted(BAD_FILES))
def test_load_policies_bad_file_names_key_and_line(name: str, expected: Expected) -> None:
    """A bad policies file raises PolicyError naming the offending dotted key and its line."""
    error = _error_of((BAD / name).read_text(encoding="utf-8"), name)
    message = str(error)
    matches = [
        (key, line)
        for key, line in expected
        if message.startswith(f"{name}:{line}: ")
        and error.line == line
        and (key is None or _names_key(message.removeprefix(f"{name}:{line}: "), key))
    ]
    assert matches, f"{message!r} names none of {expected}"


def test_load_policies_file_unreadable_names_source() -> None:
    """A missing policies file raises PolicyError naming the path, without a line."""
    missing = BAD / "no-such-file.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policies_file(missing)
    assert str(caught.value).startswith(str(missing))
    assert caught.value.line is None


def test_shipped_policies_load() -> None:
    """The shipped policies.yaml loads with its chat default and strict policy."""
    policies = load_policies_file(SHIPPED)
    assert policies.default_name == "chat"
    assert set(policies.policies) == {"chat", "strict"}
    chat = policies.get(None)
    assert chat.name == "chat"
    assert "EMPLOYEE_ID" in chat.detection.entities
    assert chat.detection.allow_list == ("support@acme.com",)
    assert chat.action_for("CREDIT_CARD").action == "mask"
    assert chat.action_for("CREDIT_CARD").keep_last == 4
    assert chat.action_for("US_SSN").action == "hash"
    assert chat.action_for("US_PASSPORT").action == "replace"  # via default


def test_extends_child_overrides_and_inherits_parent() -> None:
    """`extends` deep-merges: the child's values win, the parent's others are inherited."""
    policies = load_policies_file(SHIPPED)
    chat, strict = policies.get("chat"), policies.get("strict")
    assert strict.detection == chat.detection
    assert strict.action_for("PERSON").action == "replace"
    assert chat.action_for("US_SSN").action == "hash"
    assert strict.action_for("US_SSN").action == "replace"  # overridden: no linkable tokens
    assert strict.action_for("US_PASSPORT").action == "replace"  # child's default
    assert strict.actions["DATE_TIME"] == chat.actions["DATE_TIME"]  # inherited from chat
    assert strict.inference.restore_output is False
    assert strict.inference.ttl_seconds == chat.inference.ttl_seconds == 120
    assert strict.inference.new_output_entities == "apply_action"
    assert strict.on_detector_failure == "reject"
    assert strict.failure_marker == chat.failure_marker
    assert chat.inference.restore_output is True  # the parent is untouched


def test_extends_merges_nested_mappings_key_by_key() -> None:
    """A child overriding one nested key keeps the parent's sibling keys; lists replace."""
    text = MINIMAL + (
        "      score_threshold: 0.7\n"
        "    inference:\n"
        "      ttl_seconds: 30\n"
        "      max_ttl_seconds: 90\n"
        "  child:\n"
        "    extends: main\n"
        "    detection:\n"
        "      entities: [PERSON]\n"
        "    inference:\n"
        "      ttl_seconds: 45\n"
        "  grandchild:\n"
        "    extends: child\n"
        "    actions:\n"
        "      PERSON: redact\n"
    )
    policies = load_policies(text)
    child, grandchild = policies.get("child"), policies.get("grandchild")
    assert child.detection.entities == ("PERSON",)
    assert child.detection.score_threshold == 0.7
    assert child.inference.ttl_seconds == 45
    assert child.inference.max_ttl_seconds == 90
    assert grandchild.detection == child.detection
    assert grandchild.inference == child.inference
    assert grandchild.action_for("PERSON").action == "redact"
    assert policies.get("main").action_for("PERSON").action == "replace"


def test_action_shorthand_string_is_action_kind() -> None:
    """`PERSON: mask` means {action: mask} with the default keep_last and mask_char."""
    text = MINIMAL + "    actions:\n      PERSON: mask\n      default: hash\n"
    policy = load_policies(text).default
    spec = policy.action_for("PERSON")
    assert (spec.action, spec.keep_last, spec.mask_char) == ("mask", 4, "*")
    assert policy.action_for("EMAIL_ADDRESS").action == "hash"


def test_policy_version_names_version_name_and_digest() -> None:
    """policy_version is `<version>/<name>/sha256:<16 hex>` of the exact file text."""
    policies = load_policies(MINIMAL)
    version = policies.default.policy_version
    assert re.fullmatch(r"7/main/sha256:[0-9a-f]{16}", version), version
    assert version.endswith(policies.digest[:16])


def test_policy_version_changes_with_file_text() -> None:
    """Any change to the file text, even a comment, gives a different policy_version."""
    before = load_policies(MINIMAL).default.policy_version
    after = load_policies(MINIMAL + "# reviewed\n").default.policy_version
    again = load_policies(MINIMAL).default.policy_version
    assert before != after
    assert before == again


def test_numeric_version_is_kept_as_text() -> None:
    """`version: 3` is accepted and reported as the text "3"."""
    policies = load_policies(MINIMAL.replace('version: "7"', "version: 3"))
    assert policies.version == "3"
    assert policies.default.policy_version.startswith("3/main/sha256:")


def _first_line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_detector_rejects_entity_without_recognizer() -> None:
    """An entity no recognizer detects fails detector start-up naming its list index and line."""
    text = MINIMAL + "        - FOO_BAR\n"
    policies: Policies = load_policies(text, source="p.yaml")
    with pytest.raises(PolicyError) as caught:
        PresidioDetector(policies)
    line = _first_line(text, "FOO_BAR")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"p.yaml:{line}: policies.main.detection.entities.2: ")
    assert "FOO_BAR" in str(caught.value)


def test_detector_accepts_entity_with_custom_recognizer() -> None:
    """The same entity loads once a custom recognizer detects it."""
    text = MINIMAL + (
        "        - FOO_BAR\n"
        "      custom_recognizers:\n"
        "        - entity: FOO_BAR\n"
        "          patterns:\n"
        "            - {name: foo, regex: 'FOO-\\d{4}', score: 0.9}\n"
    )
    policies = load_policies(text)
    found = PresidioDetector(policies).detect("ticket FOO-1234 closed", policies.default)
    assert [(f.entity, f.start, f.end) for f in found] == [("FOO_BAR", 7, 15)]


def test_detector_rejects_missing_spacy_model() -> None:
    """A spaCy pipeline that is not installed fails start-up naming spacy_model and its line."""
    text = MINIMAL + "      spacy_model: xx_no_such_pipeline_sm\n"
    policies = load_policies(text, source="p.yaml")
    with pytest.raises(PolicyError) as caught:
        PresidioDetector(policies)
    line = _first_line(text, "spacy_model")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"p.yaml:{line}: policies.main.detection.spacy_model: ")
    assert "xx_no_such_pipeline_sm" in str(caught.value)
