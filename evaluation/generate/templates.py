"""Realistic-part template families used while tuning detection.

Each family is one kind of document people send through an LLM service: chat prompts, RAG
contexts (CRM, clinical, bank), tickets, e-mails, logs, code, CVs, transcripts, HR records and
shipping notices. Slots follow `render` (persona slots are labelled, the rest is filler). The
held-out families live in `heldout.py`, written separately on purpose.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from evaluation.generate.family import Family

__all__ = ["REALISTIC"]


def lines(
    pool: tuple[str, ...], *, low: int, high: int, people: int, sep: str = "\n"
) -> Callable[[random.Random], str]:
    """`low..high` lines drawn from `pool`; `_P` in a slot becomes one of `people` persons,
    so the same user recurs across lines as in a real log."""

    def draw(rng: random.Random) -> str:
        count = rng.randrange(low, high + 1)
        return sep.join(
            rng.choice(pool).replace("_P}}", "_" + str(rng.randrange(1, people + 1)) + "}}")
            for _ in range(count)
        )

    return draw


_CHAT = (
    "Can you help me write a polite reminder to {{name}}? The invoice {{invoice}} went to "
    "{{email}} on {{date}} and it is still unpaid. Keep it under 80 words and friendly.",
    "Translate to Spanish, keep it warm: Hi {{first}}, your appointment is confirmed for "
    "{{time}} on {{date}}. If you need to reschedule, call me on {{phone_2}}. Best, {{name_2}}",
    "Why does the tax portal reject my SSN? I typed {{ssn}} and it says 'invalid format'. "
    "My name is {{name}}, date of birth {{dob}}. I live at {{address}}. What am I doing wrong?",
    "Rewrite this complaint so it sounds calmer:\n\nMy card {{card}} was charged twice by "
    "{{company}} for order {{order}}. I am {{name}} and I have emailed {{email_2}} three "
    "times. Nobody answers. I want the {{amount}} back this week.",
    "hey, my name is {{lname}} and i need a cover letter for a junior analyst role at "
    "{{company}}. i studied in {{city}} and you can put my email {{email}} and phone "
    "{{phone}} at the top. make it short pls",
    "Draft a message to my landlord {{name}}: rent for next month goes to IBAN {{iban}} as "
    "usual. Ask if the account is still right, and mention I now live at {{address_2}}.",
    "Summarise the attached thread for me. Context: {{name}} ({{email}}) wants a refund of "
    "{{amount}}; {{name_2}} from billing says the order {{order}} shipped on {{date}}. Who is "
    "right? Answer in three bullet points.",
    "I'm filling in the UK GP registration form. Is '{{nhs}}' the right format for the NHS "
    "number field? And where does my National Insurance number {{nino}} go? Name on the form: "
    "{{name}}, born {{dob}}, postcode {{postcode}}.",
    "Please check this Aadhaar number {{aadhaar}} for {{name}} has the right format for the KYC "
    "form, and write a short cover note to {{email}} explaining the documents we still need.",
    "Fix my Python: the regex won't match '{{email}}' but matches other addresses. Pattern: "
    "r'^[a-z.]+@[a-z]+\\.[a-z]{2,3}$'. See {{puburl}} for what I read.",
)

_RAG_CRM = (
    "Context (CRM export, {{today}}):\n"
    "| Contact | E-mail | Phone | City | Owner | Stage |\n"
    "|---|---|---|---|---|---|\n"
    "| {{name}} | {{email}} | {{phone}} | {{city}} | {{name_4}} | Proposal |\n"
    "| {{name_2}} | {{email_2}} | {{phone_2}} | {{city_2}} | {{name_4}} | Won |\n"
    "| {{name_3}} | {{email_3}} | {{phone_3}} | {{city_3}} | {{name_4}} | Lost |\n\n"
    "Question: which of these contacts should {{first_4}} call first this week, and why?",
    '[retrieved 3 documents]\n{"id": "{{uuid}}", "type": "contact", "full_name": "{{name}}", '
    '"email": "{{email}}", "phone": "{{phone}}", "address": "{{address}}", '
    '"customer_since": "{{date}}", "segment": "SMB"}\n'
    '{"id": "{{uuid}}", "type": "note", "author": "{{name_2}}", "body": "Called {{first}} '
    'about renewal of {{product}}; wants a discount before {{date}}."}\n'
    '{"id": "{{uuid}}", "type": "contact", "full_name": "{{name_3}}", "email": "{{email_3}}", '
    '"linkedin": "{{profile_3}}"}\n\nUsing only the documents above, draft a renewal e-mail.',
    "CRM record {{uuid}}\nName: {{lastfirst}}\nE-mail: {{email}}\nMobile: {{phone}}\n"
    "Address: {{address}}\nDate of birth: {{dob}}\nAccount manager: {{name_2}}\n"
    "Notes: prefers calls after 5pm; last order {{order}} ({{amount}}).\n---\n"
    "Task: summarise this customer in two sentences for the sales handover.",
)

_RAG_CLINICAL = (
    "Retrieved note ({{mrn}}):\nPatient: {{name}}  DOB: {{dob}}\nVisit: {{visit}}  "
    "Clinician: Dr. {{last_2}}\nS: {{first}} reports two weeks of intermittent palpitations, "
    "worse at night. No chest pain.\nO: BP 132/84, HR 88 irregular.\nA: suspected paroxysmal "
    "AF.\nP: Holter monitor, TSH, follow-up in 2 weeks. Contact {{phone}}.\n\n"
    "Question: list the follow-up actions from this note.",
    "Referral letter\nTo: Dr. {{name_2}}, Cardiology\nRe: {{name}}, born {{dob}}, NHS number "
    "{{nhs}}\nAddress: {{address}}\n\nDear Dr. {{last_2}},\nI would be grateful if you could see "
    "{{first}}, seen in clinic on {{visit}} with exertional breathlessness. ECG showed LBBB. "
    "Current medication: ramipril 5 mg, atorvastatin 20 mg.\nYours sincerely,\nDr. {{name_3}}\n\n"
    "Summarise the referral reason in one line.",
    "Context: discharge summary\nName: {{uname}}\nDate of birth: {{dob}}\nAdmitted: {{visit}}\n"
    "Insurance SSN: {{ssn}}\nNext of kin: {{name_2}}, {{phone_2}}\nDiagnosis: community-acquired "
    "pneumonia, treated with amoxicillin for 5 days. Discharged home, GP review in one week.\n"
    "Answer the patient's question in plain language: 'Can I go back to work next week?'",
)

_RAG_KYC_IN = (
    "KYC file (retrieved)\nApplicant: {{name}}\nAadhaar: {{aadhaar}}\nDOB: {{dob}}\n"
    "Mobile: {{phone}}\nE-mail: {{email}}\nVerified by: {{name_2}} on {{date}}\n\n"
    "Question: is anything missing before we can open the account?",
)

_RAG_BANK = (
    "Statement excerpt for {{name}}, IBAN {{iban}}\n"
    "{{date}}  CARD PAYMENT {{company}}          -{{amount}}\n"
    "{{date}}  SEPA TRANSFER FROM {{uname_2}}     +{{amount}}\n"
    "{{date}}  DIRECT DEBIT {{company}} ref {{invoice}}  -{{amount}}\n"
    "{{date}}  CARD PAYMENT {{product}}           -{{amount}}\n"
    "Card used: {{card}}\nQuestion: which payments look like subscriptions?",
    "Transfer order\nOrdering customer: {{name}}\nDebit account: {{iban}}\nBeneficiary: "
    "{{name_2}}\nBeneficiary IBAN: {{iban_2}}\nAmount: {{amount}}\nReference: {{invoice}}\n"
    "Execution date: {{date}}\nBeneficiary address: {{address_2}}\n\nExplain why this transfer "
    "could have been flagged by the fraud rules.",
    "Chargeback case {{ticket}}\nCardholder: {{name}} ({{email}})\nCard: {{card}}\nDisputed "
    "amount: {{amount}} at {{company}} on {{date}}\nCardholder phone: {{phone}}\nBilling "
    "address: {{address}}\nDraft the customer letter confirming we received the dispute.",
)

_TICKET = (
    "[Ticket {{ticket}}] From: {{name}} <{{email}}>\nSubject: Refund not received\n\nHello,\n"
    "I returned order {{order}} on {{date}} and I still haven't got my money back. The "
    "tracking number was {{tracking}}. Please call me on {{phone}}.\n\nThanks,\n{{first}}",
    "Ticket {{ticket}} | priority P2 | product {{product}} {{version}}\nReporter: {{name}} "
    "({{email}})\nDescription: login loop after the MFA step since {{date}}. Last seen from "
    "{{ip}}. Browser: Firefox 128.\nInternal note ({{first_2}}): reset the session for "
    "{{first}}, asked to retry. Assigned to {{name_2}}.",
    "Escalation {{ticket}}: {{name}} ({{email}}) says the courier left the parcel at "
    "{{address}} instead of the locker. Customer wants a callback today on {{phone}}. "
    "Agent: {{name_2}}.",
)

_EMAIL = (
    "Hi {{first}},\n\nThanks for your time on the call today. As promised, here is the summary "
    "of what we agreed for {{product}}:\n- rollout starts {{date}}\n- pricing as in quote "
    "{{invoice}}\n- your team's admin will be {{name_3}} ({{email_3}})\n\nIf anything is off, "
    "reply here or ring me on {{phone_2}}.\n\nBest regards,\n{{name_2}}\nAccount Executive, "
    "{{company}}\n{{email_2}}",
    "Dear {{name}},\n\nWe noticed a sign-in to your account from a new device ({{ip}}) on "
    "{{date}}. If this was you, no action is needed. If not, reset your password and contact "
    "us at once.\n\nKind regards,\nThe {{company}} Security Team",
    "Subject: Re: introduction\n\nHello {{first_2}},\n\nLovely to meet you at the conference. "
    "I'm copying {{name}} here, who leads data engineering on our side; you can reach "
    "{{first}} at {{email}} or {{phone}}. The portfolio is at {{profile}}.\n\nCheers,\n"
    "{{first_3}}\n\n-----Original Message-----\nFrom: {{name_2}} <{{email_2}}>\nSent: "
    "{{date}}\nWould love an intro to someone on your data team.",
)

_LOG_PLAIN = (
    '{{ts}} INFO  auth.login user="{{email_P}}" src={{ip_P}} session={{uuid}} result=ok',
    "{{ts}} INFO  http GET /api/v2/orders/{{order}} {{status}} {{ms}}ms client={{ip_P}}",
    "{{ts}} DEBUG cache.hit key=order:{{order}} ttl=300",
    "{{ts}} INFO  worker.job id={{uuid}} queue=emails status=done duration_ms={{ms}}",
    "{{ts}} WARN  auth.failed user={{email_P}} src={{ip6_P}} reason=bad_password count={{n}}",
    "{{ts}} ERROR payments.capture order={{order}} card={{card_P}} error=insufficient_funds",
    '{{ts}} INFO  profile.update user_id={{n}} name="{{name_P}}" phone="{{phone_P}}"',
    "{{ts}} INFO  k8s pod=api-{{short}} image=registry.local/api:{{version}} ready=true",
    '{{ts}} INFO  kyc.submit applicant="{{name_P}}" ssn={{ssn_P}} dob={{dob_P}} status=pending',
    "{{ts}} INFO  payout.created iban={{iban_P}} amount={{amount}} ref={{invoice}}",
    "{{ts}} INFO  healthcheck ok version={{version}} uptime_s={{build}}",
)
_LOG_JSON = (
    '{"ts": "{{ts}}", "level": "info", "msg": "login ok", "user": "{{email_P}}", '
    '"ip": "{{ip_P}}", "request_id": "{{uuid}}"}',
    '{"ts": "{{ts}}", "level": "info", "msg": "request", "path": "/v1/cart/{{order}}", '
    '"status": {{status}}, "duration_ms": {{ms}}}',
    '{"ts": "{{ts}}", "level": "warn", "msg": "address updated", "customer": "{{name_P}}", '
    '"street": "{{street_P}}", "postcode": "{{postcode_P}}", "city": "{{city_P}}"}',
    '{"ts": "{{ts}}", "level": "error", "msg": "card declined", "pan": "{{card_P}}", '
    '"order": "{{order}}", "code": "do_not_honor"}',
    '{"ts": "{{ts}}", "level": "debug", "msg": "cache miss", "key": "sku:{{part}}"}',
    '{"ts": "{{ts}}", "level": "info", "msg": "sms sent", "to": "{{phone_P}}", '
    '"template": "otp", "provider_id": "{{uuid}}"}',
    '{"ts": "{{ts}}", "level": "info", "msg": "client connected", "remote": "{{ip6_P}}", '
    '"tls": "1.3"}',
)

_CODE = (
    '"""Fixtures for the checkout tests."""\n\nimport pytest\n\n\n@pytest.fixture\n'
    "def customer():\n    # real-looking test account; ask {{first_2}} before changing it\n"
    '    return {\n        "name": "{{name}}",\n        "email": "{{email}}",\n'
    '        "phone": "{{phone}}",\n        "card": "{{card}}",\n        "address": '
    '"{{street}}",\n        "postcode": "{{postcode}}",\n    }\n\n\n'
    "def test_total_includes_tax(customer):\n    assert checkout(customer, items=3).total > 0\n",
    "# config/staging.yaml -- generated {{today}}, version {{version}}\n"
    "database:\n  host: {{ip}}\n  port: {{port}}\n  user: svc_reports\n"
    "smtp:\n  from: noreply@northwind.io\n  test_recipient: {{email}}\n"
    'admin:\n  name: {{name}}\n  phone: "{{phone}}"\nfeature_flags:\n  new_checkout: true\n',
    "-- seed data for local dev (do not run in prod)\nINSERT INTO customers (id, full_name, "
    "email, ssn, iban) VALUES\n  ({{n}}, '{{name}}', '{{email}}', '{{ssn}}', '{{iban}}'),\n  "
    "({{n}}, '{{name_2}}', '{{email_2}}', '{{ssn_2}}', '{{iban_2}}');\n"
    "-- owner: {{email_3}}, reviewed {{date}}\n",
    "// TODO(remove before release): hard-coded test user\nconst TEST_USER = {\n  "
    'email: "{{email}}",\n  password: "changeme-{{short}}",\n  lastLoginIp: "{{ip}}",\n  '
    'profile: "{{profile}}",\n};\nexport default TEST_USER;\n',
)

_CV = (
    "# {{name}}\n{{address}} · {{phone}} · {{email}}\n{{profile}}\n\n## Summary\nData "
    "engineer with 8 years of experience building pipelines on Spark and Kafka.\n\n## "
    "Experience\n**Senior Data Engineer**, {{company}} ({{year}}-present)\n- Cut batch runtime "
    "by {{pct}} by moving jobs to incremental loads.\n**Data Engineer**, {{company}} "
    "(2015-{{year}})\n- Built the event pipeline for {{product}}.\n\n## Education\nMSc "
    "Computer Science, {{year}}\n\n## Personal\nDate of birth: {{dob}}\n\nReferences: "
    "{{name_2}}, {{email_2}}",
    "CURRICULUM VITAE\n\n{{uname}}\nBorn {{dob}}\nLives in {{city}}\nMobile {{phone}}\nE-mail "
    "{{email}}\nGitHub {{profile}}\n\nPROFILE\nFull-stack developer, TypeScript and Go.\n\n"
    "EXPERIENCE\n2021-now  Lead Developer, {{company}}\n2016-2021  Developer, "
    "{{company}}\n\nLANGUAGES\nEnglish (C2), Spanish (B2)\n",
)

_TURNS = (
    "Agent ({{first_2}}): Thank you for calling {{company}}, you're speaking with {{first_2}}.",
    "Caller: Hi, yes, I'm calling about my account. The name is {{name}}.",
    "Agent ({{first_2}}): Can you confirm the date of birth on file?",
    "Caller: It's {{dob}}.",
    "Agent ({{first_2}}): And the best number to reach you?",
    "Caller: My mobile, {{phone}}.",
    "Caller: I've moved, the new address is {{address}}.",
    "Caller: The full card number is {{card}}, I never made that purchase.",
    "Agent ({{first_2}}): I've sent a confirmation to {{email}}.",
    "Caller: Also please add my partner {{name_3}} to the account.",
    "Agent ({{first_2}}): Okay, your reference is {{ticket}}.",
    "Caller: Great, thanks for your help today.",
)


def _transcript(rng: random.Random) -> str:
    """Turns kept in script order and timed: one caller, one agent."""
    picked = sorted(rng.sample(range(len(_TURNS)), rng.randrange(6, len(_TURNS) + 1)))
    seconds, out = rng.randrange(600), []
    for index in picked:
        seconds += rng.randrange(3, 40)
        out.append(
            f"[{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}] {_TURNS[index]}"
        )
    return "\n".join(out)


_MEETING = (
    "Meeting notes, project {{product}} ({{date}})\nAttendees: {{name}}, {{name_2}}, "
    "{{name_3}}\n\n{{first}}: Let's start with the launch date. Are we still on for the 14th?\n"
    "{{first_2}}: Yes, QA signed off yesterday.\n{{first_3}}: I still need the vendor contact, "
    "can someone send it to {{email_3}}?\n{{first}}: Will do. Their account lead is {{name_4}}, "
    "{{phone_4}}.\n{{first_2}}: Action items: {{first}} owns the release notes, {{first_3}} "
    "the vendor call.",
)

_HR = (
    "EMPLOYEE RECORD\nName: {{name}}\nEmployee ID: E{{build}}\nDate of birth: {{dob}}\nHire "
    "date: {{visit}}\nHome address: {{address}}\nPersonal phone: {{phone}}\nPersonal e-mail: "
    "{{email}}\nBank account (IBAN): {{iban}}\nManager: {{name_2}}\nEmergency contact: "
    "{{name_3}} ({{phone_3}})",
    "Subject: Onboarding {{first}} {{last}}\n\nTeam,\n\n{{name}} joins us on {{visit}} as a "
    "Backend Engineer. HR has the National Insurance number ({{nino}}) and the signed contract. "
    "IT: please create the account and send the laptop to {{address}}. Buddy: {{name_2}}.\n\n"
    "Thanks,\n{{first_3}}, People Ops",
    "Payroll change request\nEmployee: {{name}}\nSIN: {{sin}}\nEffective: {{visit}}\nNew "
    "deposit account: {{iban}}\nApproved by: {{name_2}}\nComment: relocation to {{city}}.",
)

_HR_UK = (
    "New starter checklist -- {{company}}\nStarter: {{name}}\nStart date: {{visit}}\n"
    "National Insurance number: {{nino}}\nNHS number (occupational health): {{nhs}}\nHome: "
    "{{address}}\nMobile: {{phone}}\nP45 received: yes\nLine manager: {{name_2}}",
)

_HR_CA = (
    "Hi {{first_2}},\n\nPlease set up payroll for {{name}} (SIN {{sin}}), starting "
    "{{visit}}. Direct deposit details will follow from {{email}}. Mailing address: "
    "{{address}}.\n\nThanks,\n{{name_3}}",
)

_HR_ES = (
    "Ficha del empleado\nNombre: {{name}}\nNIF: {{nif}}\nFecha de nacimiento: {{dob}}\n"
    "Dirección: {{address}}\nTeléfono: {{phone}}\nCorreo: {{email}}\nAlta: {{visit}}",
)

_HR_IT = (
    "Scheda dipendente\nNome: {{name}}\nCodice fiscale: {{cf}}\nData di nascita: {{dob}}\n"
    "Indirizzo: {{address}}\nEmail: {{email}}\nIBAN: {{iban}}\nAssunzione: {{visit}}",
)

_SHIPPING = (
    "Your order {{order}} has shipped!\n\nHi {{first}}, good news: your parcel is on its way.\n"
    "Carrier tracking: {{tracking}}\nDelivering to:\n{{name}}\n{{address}}\n\nEstimated "
    "delivery: {{date}}. Questions? Reply to this e-mail.\n{{company}} Customer Care",
    "Order confirmation {{order}}\nBill to: {{name}}, {{address}}\nShip to: {{name_2}}, "
    "{{address_2}}\nContact phone: {{phone}}\nItems: {{product}} x{{n}}, part {{part}}\nTotal: "
    "{{amount}}\nPaid with card ending {{n}}. Thank you for shopping with {{company}}.",
    "Delivery exception for shipment {{tracking}}: nobody was home at {{street}}, "
    "{{postcode}}. The driver left a card. Rebook at {{puburl}} or call the recipient "
    "{{name}} on {{phone}}.",
)


def _split(
    kind: str, bodies: tuple[str, ...], names: str, **extra: tuple[str, ...]
) -> tuple[Family, ...]:
    """One family per body, named `kind.<name>`: each wording is its own family."""
    return tuple(
        Family(f"{kind}.{name}", kind, (body,))
        for name, body in zip(names.split(), bodies, strict=True)
    )


REALISTIC: tuple[Family, ...] = (
    *_split(
        "chat",
        _CHAT,
        "invoice_reminder translate_appointment tax_portal_help rewrite_complaint cover_letter "
        "landlord_message thread_summary uk_gp_form kyc_check regex_help",
    ),
    *_split("rag_crm", _RAG_CRM, "table json_records record_card"),
    Family("rag_clinical.notes", "rag_clinical", _RAG_CLINICAL, locales=("en_GB", "en_US")),
    Family("rag_bank.statement", "rag_bank", _RAG_BANK),
    Family("rag_bank.kyc_in", "rag_bank", _RAG_KYC_IN, locales=("en_IN",)),
    Family("ticket.support", "ticket", _TICKET),
    Family("email.business", "email", _EMAIL),
    Family("log.plain", "log", (lines(_LOG_PLAIN, low=3, high=14, people=3),)),
    Family("log.json", "log", (lines(_LOG_JSON, low=3, high=12, people=3),)),
    *_split("code", _CODE, "pytest_fixture staging_yaml sql_seed js_test_user"),
    Family("cv.resume", "cv", _CV),
    Family("transcript.support_call", "transcript", (_transcript,)),
    Family("transcript.meeting", "transcript", _MEETING),
    Family("hr.record", "hr", _HR),
    Family("hr.uk_starter", "hr", _HR_UK, locales=("en_GB",)),
    Family("hr.ca_payroll", "hr", _HR_CA, locales=("en_CA",)),
    Family("hr.es_ficha", "hr", _HR_ES, locales=("es_ES",)),
    Family("hr.it_scheda", "hr", _HR_IT, locales=("it_IT",)),
    Family("shipping.notice", "shipping", _SHIPPING),
)
