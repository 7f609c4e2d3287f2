"""Request data objects refuse to leave memory: no pickling, reprs without content."""

from __future__ import annotations

import copy
import pickle

import pytest

from governance.policy import Policies
from sidecar.contexts import ContextStore, InferenceContext, Sensitive
from sidecar.redaction import Placeholders

CANARY = "zq7.canary@example.org"


def _context(policies: Policies) -> InferenceContext:
    context = InferenceContext(
        inference_id=ContextStore.new_id(),
        tenant="t1",
        model="m",
        purpose="p",
        policy=policies.default,
        input=Sensitive(f"mail {CANARY}"),
        subject_id=Sensitive("subject-42"),
        expires_at=1e12,
        expires_at_unix_ms=0,
    )
    context.placeholders.placeholder_for("EMAIL_ADDRESS", CANARY)
    return context


def test_request_objects_refuse_pickling(shipped_policies: Policies) -> None:
    """Sensitive text, placeholder maps and whole contexts cannot be serialised or copied."""
    context = _context(shipped_policies)
    for value in (context.input, context.placeholders, context):
        with pytest.raises(TypeError, match="not serialisable"):
            pickle.dumps(value)
        with pytest.raises(TypeError, match="not serialisable"):
            copy.deepcopy(value)


def test_request_objects_repr_hides_content(shipped_policies: Policies) -> None:
    """repr/str of request objects show sizes and ids, never the text or a value."""
    context = _context(shipped_policies)
    for value in (context.input, context.placeholders, context, context.subject_id):
        assert CANARY not in repr(value)
        assert CANARY not in str(value)
        assert "subject-42" not in repr(value)


def test_wipe_drops_every_value(shipped_policies: Policies) -> None:
    """After wipe() the context holds no input, subject id or placeholder value."""
    context = _context(shipped_policies)
    context.wipe()
    assert context.input.reveal() == ""
    assert context.subject_id is not None
    assert context.subject_id.reveal() == ""
    assert len(context.placeholders) == 0
    assert context.placeholders.value_of("<EMAIL_ADDRESS_1>") is None
    assert context.wiped


def test_placeholders_restore_only_input_values() -> None:
    """A value first seen in a model output gets a placeholder that is never restorable."""
    placeholders = Placeholders()
    own = placeholders.placeholder_for("PERSON", "Ada Lovelace")
    made_up = placeholders.placeholder_for("PERSON", "Bob Jones", from_input=False)
    assert placeholders.restorable(own) == "Ada Lovelace"
    assert placeholders.restorable(made_up) is None
    assert placeholders.known("PERSON", "bob  JONES") is None
    assert placeholders.known("PERSON", "ada lovelace") == own
