"""Adversarial-part frames: short documents that carry obfuscated personal values.

A frame is a family: wrapper templates with a `{{body}}` slot and the phrase pools that
introduce each value (`{{v}}` is the obfuscated value, other slots are plain persona values).
Table frames instead hold `{{rows}}`, where a value is split over adjacent cells. Held-out
frames, with their own wording, are in `heldout.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ADVERSARIAL", "ENTITY_SLOT", "KIND_PHRASES", "Frame"]

# The persona slot whose value an obfuscation is planted on, per entity type.
ENTITY_SLOT = {
    "PERSON": "name", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
    "US_SSN": "ssn", "UK_NHS": "nhs", "UK_NINO": "nino", "ES_NIF": "nif", "IT_FISCAL_CODE": "cf",
    "CA_SIN": "sin", "IN_AADHAAR": "aadhaar", "IBAN_CODE": "iban", "IP_ADDRESS": "ip",
    "LOCATION": "street", "DATE_TIME": "dob", "URL": "profile",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Frame:
    name: str
    kind: str  # the document kind, as in the other parts (chat, form, log...)
    wraps: tuple[str, ...]
    phrases: Mapping[str, tuple[str, ...]]  # entity type -> phrases with {{v}}
    heldout: bool = False
    table: str = ""  # cell separator for table frames ("" for prose frames)
    joiner: str = " "  # between the phrases of the body
    extras: tuple[str, ...] = field(default=())  # plain sentences mixed in, persona slots


SENTENCES: dict[str, tuple[str, ...]] = {
    "PERSON": ("My name is {{v}}.", "This is {{v}} writing.", "Account holder: {{v}}.",
               "Please send it to {{v}} in accounts."),
    "EMAIL_ADDRESS": ("You can e-mail me at {{v}}.", "Reply to {{v}} please.",
                      "My login is {{v}}.", "Send the invoice to {{v}}."),
    "PHONE_NUMBER": ("Call me on {{v}}.", "My number is {{v}}.", "Text {{v}} after six.",
                     "Reach {{first}} at {{v}}."),
    "CREDIT_CARD": ("Charge my card {{v}}.", "The card number is {{v}}, exp 09/28.",
                    "Use {{v}} for the deposit."),
    "US_SSN": ("My SSN is {{v}}.", "Social security number: {{v}}.", "SSN on file: {{v}}."),
    "UK_NHS": ("My NHS number is {{v}}.", "NHS no. {{v}} for the referral."),
    "UK_NINO": ("My NI number is {{v}}.", "National Insurance: {{v}}."),
    "ES_NIF": ("Mi NIF es {{v}}.", "NIF del titular: {{v}}."),
    "IT_FISCAL_CODE": ("Il mio codice fiscale è {{v}}.", "Codice fiscale: {{v}}."),
    "CA_SIN": ("My SIN is {{v}}.", "Social insurance number {{v}}."),
    "IN_AADHAAR": ("My Aadhaar is {{v}}.", "Aadhaar no: {{v}}."),
    "IBAN_CODE": ("Pay into IBAN {{v}}.", "My bank account is {{v}}."),
    "IP_ADDRESS": ("I was connecting from {{v}}.",),
    "LOCATION": ("I live at {{v}}.", "Deliver to {{v}}, second floor."),
    "DATE_TIME": ("I was born on {{v}}.",),
    "URL": ("My profile: {{v}}.",),
}  # fmt: skip

FIELDS: dict[str, tuple[str, ...]] = {
    "PERSON": ("name: {{v}}", "full_name={{v}}", "Holder: {{v}}"),
    "EMAIL_ADDRESS": ("email: {{v}}", "contact={{v}}", "E-mail: {{v}}"),
    "PHONE_NUMBER": ("phone: {{v}}", "mobile={{v}}", "Tel: {{v}}"),
    "CREDIT_CARD": ("card: {{v}}", "pan={{v}}", "Card no.: {{v}}"),
    "US_SSN": ("ssn: {{v}}", "SSN={{v}}"),
    "UK_NHS": ("nhs_number: {{v}}", "NHS: {{v}}"),
    "UK_NINO": ("nino: {{v}}", "NI number: {{v}}"),
    "ES_NIF": ("nif: {{v}}",),
    "IT_FISCAL_CODE": ("codice_fiscale: {{v}}", "CF: {{v}}"),
    "CA_SIN": ("sin: {{v}}", "SIN={{v}}"),
    "IN_AADHAAR": ("aadhaar: {{v}}", "Aadhaar={{v}}"),
    "IBAN_CODE": ("iban: {{v}}", "IBAN={{v}}"),
    "IP_ADDRESS": ("client_ip: {{v}}",),
    "LOCATION": ("street: {{v}}", "addr={{v}}"),
    "DATE_TIME": ("dob: {{v}}",),
    "URL": ("profile: {{v}}",),
}  # fmt: skip

# Kinds whose rendering needs its own carrier, whatever the entity: a base64 blob sits in a
# data field, a percent-encoded value in a query string.
KIND_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "base64": {
        "*": ("data={{v}}", "payload: {{v}}", "X-Contact: {{v}}", "cookie: uid={{v}}",
              '"blob": "{{v}}"'),
    },
    "url_encoded": {
        "EMAIL_ADDRESS": ("https://app.northwind.io/unsubscribe?email={{v}}&list=news",
                          "GET /api/users?filter={{v}} HTTP/1.1", "mailto-link: ?to={{v}}"),
        "PERSON": ("https://forms.acme-corp.com/submit?name={{v}}&plan=pro",
                   "redirect_uri=/welcome?user={{v}}"),
        "PHONE_NUMBER": ("/callback?number={{v}}&retry=1", "sms:send?to={{v}}"),
        "LOCATION": ("https://maps.example.com/?q={{v}}", "geocode?street={{v}}&country=any"),
    },
}  # fmt: skip

_PLAIN = (
    "Thanks, {{first}}.", "Signed, {{name}}.", "Ping {{email}} if anything is unclear.",
    "Order {{order}} is the one I mean.", "Ref {{ticket}}.", "Sent {{date}}.",
    "The old details are no longer valid, so please update everything today.",
    "I already tried the app, but it says my session expired every time.",
    "{{first}} from the front desk said this was the fastest way.",
)  # fmt: skip

_PLAIN_FIELDS = ("name: {{name}}", "ref: {{ticket}}", "created: {{ts}}", "order_id: {{order}}")

ADVERSARIAL: tuple[Frame, ...] = (
    Frame(
        "adv.chat_message",
        "chat",
        (
            "{{body}}\n\nCan you double-check these details before I submit the form?",
            "Fix the grammar but keep every detail exactly as written:\n{{body}}",
            "User: {{body}}\nAssistant: Sure, let me help with that.",
            "I'm updating my details with {{company}} after the move and the web form keeps "
            "timing out, so here they are in one message:\n\n{{body}}\n\nPlease turn this "
            "into a short, polite e-mail to their support team and keep every detail as is. "
            "Mention order {{order}} so they can find my account quickly.",
            "Context for the assistant: the customer pasted the following into the chat "
            "window of {{product}} on {{date}}. Classify the request (billing, account, "
            "delivery) and draft a reply.\n---\n{{body}}\n---",
        ),
        SENTENCES,
        extras=_PLAIN,
    ),
    Frame(
        "adv.form_dump",
        "form",
        (
            "Form submission {{uuid}}\nform: account-update v{{n}}\n{{body}}\nconsent: yes\n"
            "submitted_at: {{ts}}\nuser_agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            "--- signup ---\nplan: pro\nseats: {{n}}\n{{body}}\ncoupon: SPRING{{n}}\n---",
        ),
        FIELDS,
        joiner="\n",
        extras=_PLAIN_FIELDS,
    ),
    Frame(
        "adv.ticket_note",
        "ticket",
        (
            "Ticket {{ticket}}, note from support:\n{{body}}\nStatus: open\nSLA: 24h, "
            "product {{product}} {{version}}, channel: web chat",
            "Internal note on {{ticket}}: {{body}} Escalate if no reply by {{date}}.",
        ),
        SENTENCES,
        extras=_PLAIN,
    ),
    Frame(
        "adv.log_line",
        "log",
        (
            "{{ts}} INFO request id={{uuid}} path=/v1/profile method=POST\n{{ts}} DEBUG "
            "request body:\n{{body}}\n{{ts}} INFO response status={{status}} took={{ms}}ms",
            "{{ts}} WARN validation failed (rule {{part}}), payload follows\n{{body}}\n"
            "{{ts}} WARN dropping event {{uuid}}",
        ),
        FIELDS,
        joiner="\n",
        extras=_PLAIN_FIELDS,
    ),
    Frame(
        "adv.code_comment",
        "code",
        (
            "# contact for this service: {{body}}\n"
            "def handler(event):\n    return process(event)\n",
            "// test data, do not ship\n// {{body}}\nconst retries = 3;\n",
        ),
        FIELDS,
        joiner="\n",
        extras=_PLAIN_FIELDS,
    ),
    Frame(
        "adv.review_comment",
        "code_review",
        (
            "Reviewer note on PR #{{build}}: the new test fixture contains real-looking data. "
            "{{body}} Please redact before merging and re-run the suite.",
            "> {{body}}\nThis leaked into the fixture again, can we scrub it?",
        ),
        SENTENCES,
    ),
    Frame(
        "adv.md_table",
        "table",
        (
            "Customer list ({{today}}):\n\n{{rows}}\n\nRows exported from {{product}}.",
            "{{rows}}\n\n_Split columns are a legacy export quirk._",
        ),
        FIELDS,
        table=" | ",
    ),
    Frame(
        "adv.csv_export",
        "table",
        ("export,{{uuid}}\n{{rows}}\n", "# generated {{ts}}\n{{rows}}\n# end"),
        FIELDS,
        table=",",
    ),
)
