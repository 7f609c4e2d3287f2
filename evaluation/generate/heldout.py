"""Held-out families of all three parts: never looked at while tuning detection.

Written separately from `templates.py`, `adversarial.py` and `negatives.py`, with different
wording and layouts (vCards, formal letters, syslog, Europass CVs, payroll CSV, SMS threads,
TSV sheets, Kubernetes events...), so a score on them says how detection generalises. Every
family here is named `heldout.*` and marked `heldout=True`.
"""

from __future__ import annotations

import random

from evaluation.generate.adversarial import Frame
from evaluation.generate.family import Family
from evaluation.generate.negatives import repeat
from evaluation.generate.templates import lines

__all__ = ["HELDOUT_ADVERSARIAL", "HELDOUT_NEGATIVE", "HELDOUT_REALISTIC"]

_VCARD = (
    "Use the contact cards below to answer: who is the billing contact?\n\nBEGIN:VCARD\n"
    "VERSION:4.0\nFN:{{name}}\nN:{{last}};{{first}};;;\nEMAIL;TYPE=work:{{email}}\n"
    "TEL;TYPE=cell:{{phone}}\nADR;TYPE=home:;;{{street}};{{city}};;{{postcode}};\n"
    "BDAY:{{dob}}\nURL:{{profile}}\nNOTE:billing contact since {{date}}\nEND:VCARD\n"
    "BEGIN:VCARD\nVERSION:4.0\nFN:{{name_2}}\nEMAIL:{{email_2}}\nTEL:{{phone_2}}\nEND:VCARD",
)

_DISCHARGE = (
    "DISCHARGE LETTER -- ward 7B\n\nPatient ........ {{uname}}\nBorn ........... {{dob}}\n"
    "Admitted ....... {{visit}}\nNHS no. ........ {{nhs}}\nGP ............. Dr {{last_2}}\n\n"
    "Course: admitted with a fall at home; no fracture on imaging. Physio assessment passed.\n"
    "Home address for transport: {{address}}. Daughter ({{name_3}}) reachable on {{phone_3}}.\n"
    "What should the transport team know?",
)

_FORMAL_LETTER = (
    "{{name_2}}\n{{address_2}}\n\n{{date}}\n\nTo whom it may concern,\n\nI hereby confirm that "
    "{{name}}, residing at {{address}}, has rented the flat from me since {{year}} and has "
    "always paid on time. Should you require further information, I can be contacted by "
    "telephone at {{phone_2}} or in writing at {{email_2}}.\n\nYours faithfully,\n\n{{name_2}}",
    "Dear Sir or Madam,\n\nRe: account of the late {{name}} (date of birth {{dob}})\n\nI am "
    "the executor of the estate and enclose the death certificate. Please close the account "
    "{{iban}} and send correspondence to me, {{name_2}}, at {{address_2}}.\n\nRespectfully,\n"
    "{{first_2}} {{last_2}}",
)

_SYSLOG = (
    "<{{n}}>1 {{ts}} mail-gw postfix/smtpd {{build}} - - connect from unknown[{{ip_P}}]",
    "<{{n}}>1 {{ts}} mail-gw postfix/qmgr {{build}} - - {{short}}: from=<{{email_P}}>, "
    "size={{build}}, nrcpt=1 (queue active)",
    "<{{n}}>1 {{ts}} vpn-01 openvpn {{build}} - - {{email_P}}/{{ip_P}} peer info: IV_VER=2.6",
    "<{{n}}>1 {{ts}} web-02 sshd {{build}} - - Failed password for invalid user admin from "
    "{{ip6_P}} port {{port}} ssh2",
    "<{{n}}>1 {{ts}} web-02 cron {{build}} - - (root) CMD (/usr/local/bin/rotate --keep 7)",
)

_EUROPASS = (
    "PERSONAL INFORMATION\n  Surname(s) / First name(s)   {{last}}, {{first}}\n  Address    "
    "{{address}}\n  Telephone    {{phone}}\n  E-mail    {{email}}\n  Nationality    EU\n  "
    "Date of birth    {{dob}}\n\nWORK EXPERIENCE\n  Dates    {{year}} -> present\n  Occupation "
    "   Quality engineer\n  Employer    {{company}}\n\nPERSONAL SKILLS\n  Mother tongue    "
    "see profile {{profile}}",
)

_PAYROLL_ROWS = (
    "{{build}};{{lastfirst_P}};{{iban_P}};{{amount}};{{visit_P}}",
    "{{build}};{{lastfirst_P}};{{iban_P}};{{amount}};{{visit_P}}",
)

_PAYROLL_LINES = lines(_PAYROLL_ROWS, low=2, high=9, people=6)


def _payroll(rng: random.Random) -> str:
    return "emp_id;name;iban;net_pay;hired\n" + _PAYROLL_LINES(rng)


_SMS = (
    "[{{ts}}] +courier: Your parcel {{tracking}} arrives today 10-14h.\n[{{ts}}] me: pls leave "
    "it with {{name_2}} at {{street}}\n[{{ts}}] +courier: OK. Recipient phone on file "
    "{{phone}}, name {{uname}}. Reply STOP to opt out.",
)

HELDOUT_REALISTIC: tuple[Family, ...] = (
    Family("heldout.crm_vcard", "rag_crm", _VCARD, heldout=True),
    Family("heldout.clinical_discharge", "rag_clinical", _DISCHARGE, heldout=True,
           locales=("en_GB",)),
    Family("heldout.email_formal_letter", "email", _FORMAL_LETTER, heldout=True),
    Family("heldout.log_syslog", "log", (lines(_SYSLOG, low=3, high=14, people=3),), heldout=True),
    Family("heldout.cv_europass", "cv", _EUROPASS, heldout=True),
    Family("heldout.hr_payroll_csv", "hr", (_payroll,), heldout=True),
    Family("heldout.shipping_sms", "shipping", _SMS, heldout=True),
)  # fmt: skip

_HELD_SENTENCES: dict[str, tuple[str, ...]] = {
    "PERSON": ("it's {{v}} here", "whoever picks up, ask for {{v}}"),
    "EMAIL_ADDRESS": ("drop a line to {{v}}", "new address -> {{v}}"),
    "PHONE_NUMBER": ("ring {{v}} anytime", "whatsapp: {{v}}"),
    "CREDIT_CARD": ("put it on {{v}}", "the plastic is {{v}}"),
    "US_SSN": ("social is {{v}}",),
    "UK_NHS": ("nhs {{v}}",),
    "UK_NINO": ("NI no {{v}}",),
    "IT_FISCAL_CODE": ("CF {{v}}",),
    "CA_SIN": ("sin# {{v}}",),
    "IN_AADHAAR": ("UID {{v}}",),
    "IBAN_CODE": ("wire it to {{v}}",),
    "LOCATION": ("come round to {{v}}",),
    "ES_NIF": ("dni/nif {{v}}",),
    "IP_ADDRESS": ("my router says {{v}}",),
}  # fmt: skip

HELDOUT_ADVERSARIAL: tuple[Frame, ...] = (
    Frame(
        "heldout.adv_sms_thread",
        "sms",
        ("[{{ts}}] > {{body}}\n[{{ts}}] < ok got it, thx", "SMS from unknown:\n{{body}}\n-- end"),
        _HELD_SENTENCES,
        heldout=True,
        extras=("cheers {{first}}", "(ref {{ticket}})", "was {{name}} on the call?"),
    ),
    Frame(
        "heldout.adv_email_footer",
        "email",
        (
            "Looking forward to the demo.\n\n--\n{{body}}\nSent from my phone",
            "Please see the attached slides.\n\n____\n{{body}}\nThis e-mail is confidential.",
        ),
        _HELD_SENTENCES,
        heldout=True,
        extras=("cheers {{first}}", "(ref {{ticket}})", "was {{name}} on the call?"),
    ),
    Frame(
        "heldout.adv_tsv_sheet",
        "table",
        ("sheet1.tsv ({{today}})\n{{rows}}", "{{rows}}\n<end of paste>"),
        _HELD_SENTENCES,
        heldout=True,
        table="\t",
    ),
)

_K8S = (
    "{{ts}}  Normal   Scheduled  pod/api-{{short}}  Successfully assigned to node-{{n}}",
    "{{ts}}  Normal   Pulled     pod/api-{{short}}  Container image registry.local/api:"
    "{{version}} already present",
    "{{ts}}  Warning  BackOff    pod/worker-{{short}}  Back-off restarting failed container",
    "{{ts}}  Normal   Scaled     deployment/api  Scaled up replica set api-{{short}} to {{n}}",
    "{{ts}}  Warning  Unhealthy  pod/api-{{short}}  Readiness probe failed: HTTP probe failed "
    "with statuscode: {{status}}",
)

_INVOICE_LINES = (
    "{{part}}  Hex bolt M8x40, zinc        x{{n}}   {{amount}}",
    "{{part}}  Cable gland PG9             x{{n}}   {{amount}}",
    "{{isbn}}  Handbook, 3rd ed.           x1    {{amount}}",
    "{{part}}  Service fee (build {{build}})     {{amount}}",
)

_DEPENDABOT = (
    "Bumps the npm group with 3 updates:\n\n| Package | From | To |\n|---|---|---|\n| vite | "
    "{{version}} | {{version}} |\n| vitest | {{version}} | {{version}} |\n| typescript | "
    "{{version}} | {{version}} |\n\nCommits: {{sha}}, {{sha}}\nRelease notes: {{puburl}}\n"
    "Will merge once CI is green; Mark this PR as ready when done.",
)

HELDOUT_NEGATIVE: tuple[Family, ...] = (
    Family("heldout.neg_k8s_events", "log", (repeat(_K8S, low=4, high=30,
           head="LAST SEEN  TYPE     REASON     OBJECT  MESSAGE\n"),), heldout=True),
    Family("heldout.neg_invoice_lines", "orders", (repeat(_INVOICE_LINES, low=3, high=30,
           head="Invoice {{invoice}} -- {{today}}\nDear customer, your items:\n"),), heldout=True),
    Family("heldout.neg_dependabot_pr", "code_review", _DEPENDABOT, heldout=True),
)  # fmt: skip
