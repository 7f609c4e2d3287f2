"""Seeded generator of the labelled detection-quality corpus (`evaluation/data/corpus.jsonl`).

Regenerate with `python -m evaluation.generate`; `python -m evaluation.generate --check`
verifies the committed file byte for byte (same seed, same Faker pin, same bytes). Documents use
the format of `evaluation.labels` (Doc, Span); every document is drawn from its own
`random.Random(f"{seed}:{part}:{index}")`, and Faker is re-seeded from it before each use.

Parts (`Doc.part`):
- realistic (600): chat prompts, RAG contexts (rag_crm, rag_clinical, rag_bank), tickets,
  e-mails, logs (JSON, plain, syslog), code and config with test accounts, CVs, transcripts,
  HR records, shipping notices. Mostly 200 B-3 KB; ~5% are 5-20 KB, built from blocks.
- adversarial (600): short documents whose values are obfuscated; `Span.obfuscation` is one of
  zero_width, fullwidth, math_digits, homoglyph, spaced_digits, at_dot_email, line_wrap,
  table_cells, base64, url_encoded, html_entities, spelled_digits, mixed_case, stream_split
  (each on 40+ values; stream_split documents carry `Doc.chunks`, cut inside every value). A
  span covers the whole rendering (all the spaced digits, the whole base64 segment).
- negative (350): no personal data, hard on purpose (versions, order and tracking numbers,
  hashes, stack traces, SQL, config, name-like words such as Will or Mark, public URLs); must
  come out of screening unchanged.

Labels: PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, UK_NHS, UK_NINO, ES_NIF,
IT_FISCAL_CODE, CA_SIN, IN_AADHAAR, IBAN_CODE, IP_ADDRESS, LOCATION (street line, postcode and
city of a person's address, as separate spans), DATE_TIME (only dates tied to a person: birth,
a named person's visit or hire), URL (only personal profile/home pages). Structured ids pass
their real checksums; phone numbers are valid per libphonenumber. Every occurrence of a
labelled value's text is labelled, and none hides in unlabelled text (`render.conflicts`).

Held-out rule: families named `heldout.*` (`heldout.py`, ~20% of the families of each part)
set `Doc.heldout`; they are written separately and must never be used while tuning detection.
"""

from evaluation.generate.build import generate

__all__ = ["generate"]
