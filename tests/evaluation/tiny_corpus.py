"""A hand-written labelled corpus of seven documents, for the evaluation's own tests.

Every value is synthetic (documentation e-mail domains, 555 numbers, test card numbers).
`VALUES` lists them so tests can check that no report or JSON ever contains one.
"""

from __future__ import annotations

from evaluation.labels import Doc, Part, Span

__all__ = ["DOCS", "VALUES"]


def _doc(
    doc_id: str,
    part: Part,
    text: str,
    values: tuple[tuple[str, str, str], ...] = (),
    *,
    heldout: bool = False,
    chunks: tuple[int, ...] = (),
) -> Doc:
    """A document whose spans are found by their value's first occurrence in `text`."""
    spans = []
    for entity, value, obfuscation in values:
        start = text.index(value)
        spans.append(Span(entity, start, start + len(value), obfuscation))
    return Doc(doc_id, part, "chat", f"t-{doc_id}", heldout, text, tuple(spans), chunks)


_STREAMED = "Sure, write to maria.garcia@example.org and she will reply."
DOCS: tuple[Doc, ...] = (
    _doc(
        "r1",
        "realistic",
        "Hi, I am Maria Garcia. Reach me at maria.garcia@example.org or +1 202 555 0147.",
        (
            ("PERSON", "Maria Garcia", ""),
            ("EMAIL_ADDRESS", "maria.garcia@example.org", ""),
            ("PHONE_NUMBER", "+1 202 555 0147", ""),
        ),
    ),
    _doc(
        "r2",
        "realistic",
        "Please charge card 4111 1111 1111 1111; the server was 192.168.10.24 at the time.",
        (("CREDIT_CARD", "4111 1111 1111 1111", ""), ("IP_ADDRESS", "192.168.10.24", "")),
        heldout=True,
    ),
    _doc(
        "a1",
        "adversarial",
        "Contact: jo\u200bhn.doe@example.com for the refund.",
        (("EMAIL_ADDRESS", "jo\u200bhn.doe@example.com", "zero_width"),),
    ),
    _doc(
        "a2",
        "adversarial",
        "Payload NDExMTExMTExMTExMTExMQ== attached.",
        (("CREDIT_CARD", "NDExMTExMTExMTExMTExMQ==", "base64"),),
        heldout=True,
    ),
    _doc(
        "a3",
        "adversarial",
        _STREAMED,
        (("EMAIL_ADDRESS", "maria.garcia@example.org", "stream_split"),),
        chunks=(22, 10, len(_STREAMED) - 32),
    ),
    _doc("n1", "negative", "The meeting moved to the large room on the second floor."),
    _doc("n2", "negative", "Restart the build and check the logs again.", heldout=True),
)
VALUES: tuple[str, ...] = tuple(d.value(s) for d in DOCS for s in d.spans)
