"""Many inferences at once: placeholders never cross between them.

A dedicated server with a generous detection budget runs them, so a loaded test machine
cannot turn the check into fail-closed replies (queueing for a detector thread counts
against timeout_ms).
"""

from __future__ import annotations

import asyncio
import re

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import SidecarFactory, minimal_policies

_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda")
_FIRST += ("David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis")
_LAST += ("Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson")
_LAST += ("Thomas", "Taylor", "Moore", "Jackson", "Clark")
# 15 x 20 = 300 distinct people, each with an e-mail address of their own.
PEOPLE = tuple(
    (f"{first} {last}", f"{first.lower()}.{last.lower()}{i:03d}@example.com")
    for i, (first, last) in enumerate((f, s) for f in _FIRST for s in _LAST)
)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_([0-9]+)>")


async def _one(stub: pb_grpc.PrivacySidecarStub, name: str, email: str) -> tuple[str, str]:
    begun = await stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m1",
            tenant="acme",
            purpose="chat",
            input=f"Hello, my name is {name} and my email is {email}.",
        )
    )
    await asyncio.sleep(0)  # let the other inferences interleave between begin and end
    ended = await stub.EndInference(
        pb.EndInferenceRequest(
            inference_id=begun.inference_id,
            output="Dear <PERSON_1>, we will write to <EMAIL_ADDRESS_1> shortly.",
        )
    )
    return begun.model_input, ended.user_output


async def test_concurrent_inferences_keep_their_placeholders_apart(
    sidecar_factory: SidecarFactory,
) -> None:
    """300 concurrent inferences: each sees only `_1` placeholders and gets back only its own."""
    running = await sidecar_factory(minimal_policies(timeout_ms="120000"), workers=8)
    stub = running.stub
    all_values = [value for person in PEOPLE for value in person]
    assert len(set(all_values)) == len(all_values) == 600
    assert not any(a in b for a in all_values for b in all_values if a != b)
    results = await asyncio.gather(*(_one(stub, name, email) for name, email in PEOPLE))
    for (name, email), (model_input, user_output) in zip(PEOPLE, results, strict=True):
        assert model_input == "Hello, my name is <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
        assert {m.group(1) for m in _PLACEHOLDER.finditer(model_input)} == {"1"}
        assert user_output == f"Dear {name}, we will write to {email} shortly."
        leaked = [v for v in all_values if v in user_output and v not in (name, email)]
        assert leaked == []
    assert len(running.sidecar.contexts) == 0
    assert running.sidecar.contexts.reserved_bytes == 0
