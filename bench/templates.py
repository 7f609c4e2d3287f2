"""Text templates for the benchmark corpus, by kind of document.

Templates use `str.format` syntax: `{slot}` or `{slot_TAG}` is filled by `bench.corpus`, which
knows which slots are PII (and labels them) and which are look-alike negatives (`{uuid}`,
`{order}`, ...). Literal braces are doubled, as in `str.format`. Slots sharing a tag share a
person, so `{name_2}` and `{email_2}` belong together. SHORT templates make ~200 B documents on
their own; BLOCKS are paragraphs that larger documents are assembled from.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

__all__ = ["BLOCKS", "KINDS", "NEGATIVE_KIND", "SHORT", "Template"]

_FORMATTER = string.Formatter()

# A template is a format string, or a function drawing one (for line-oriented kinds, whose
# number of lines varies).
Template = str | Callable[[random.Random], str]

NEGATIVE_KIND = "negative"

SHORT: dict[str, tuple[str, ...]] = {
    "chat": (
        "Can you help me write a polite reminder to {name}? The invoice went to {email} on "
        "{date} and they still haven't paid. Keep it short, under 80 words.",
        "Translate to Spanish, keep it friendly: Hi {first}, your appointment at our clinic in "
        "{city} is confirmed for {date}. Call {phone} if you need to reschedule.",
        "Summarize this for my complaint letter: my card {card} was charged twice by the gym "
        "last month, and the manager, {name}, won't answer my emails.",
        "Why does the form reject my SSN? I typed {ssn} into the tax portal and it keeps "
        "saying 'invalid format'. My name is {name}, born {dob}. What am I doing wrong?",
        "Draft a short message to my landlord {name}: rent for {date} goes to IBAN {iban} "
        "as usual, please confirm the account is still correct.",
        "Is {ip} a residential IP address? Someone connecting from there keeps trying to log "
        "into {email}'s account at night. How do I find out who owns it?",
        "Give me three catchy subject lines for an email to {name} about the team offsite in "
        "{city} next spring. Tone: upbeat but professional, no emojis please.",
    ),
    "ticket": (
        "[Ticket #{ticket}] From: {name} <{email}>\nSubject: Refund not received\nI returned "
        "order {order} on {date}. Please call me on {phone}.",
        "Ticket {ticket}: customer {name} reports a login loop on web app {version} after "
        "the MFA step. Last seen from {ip} on {date}. Priority: P3. Assigned: {name_2}.",
        "Escalation #{ticket}: {name} ({email}) says the courier left the parcel at "
        "{street}, {city} instead of the locker. Wants a callback today.",
    ),
    "crm": (
        "{last}, {first} | {email} | {phone} | {street}, {city} | customer since {date} | "
        "tier: gold | owner: {name_2}",
        "Contact: {name}; Mobile: {phone}; E-mail: {email}; City: {city}; Owner: {name_2}; "
        "Stage: Proposal; Next step: call back on {date}",
    ),
    "bank": (
        "Beneficiary: {name}, IBAN {iban}, amount EUR {amount}, reference {invoice}, "
        "execution date {date}, ordered by {name_2}.",
        "Card check: holder {name}, PAN {card}, SSN {ssn}, address {street}, {city}; "
        "flagged by rule R-{n} for review.",
    ),
    "clinical": (
        "Pt {name}, DOB {dob}, MRN {mrn}. Seen {date} for follow-up of hypertension; BP "
        "128/82, meds unchanged. Callback {phone}.",
        "Referral: {name} (DOB {dob}) to Dr. {name_2}, cardiology, {city}; insurance SSN "
        "{ssn}. Reason: palpitations for two weeks.",
    ),
    "log": (
        '{time} INFO  auth.login user="{email}" src={ip} session={uuid} mfa=totp result=ok',
        "{time} WARN  api.gateway rate limit client={ip6} route=/v2/orders/{order} "
        "status=429 latency_ms={ms} user={email}",
        '{time} ERROR billing.charge card={card} customer="{name}" decline_code='
        "do_not_honor attempt=3 order={order}",
    ),
    "code": (
        '# TODO(remove before release): test account\nTEST_USER = "{email}"\n'
        'TEST_CARD = "{card}"\nAPI_BASE = "{url}"',
        'conn = psycopg.connect(host="{ip}", user="svc_reports", dbname="crm")  '
        "# ask {name} ({email}) for the password, rotated {date}",
    ),
    "cv": (
        "{name}\n{street}, {city}\n{phone} · {email}\n{profile}\nSenior Data Engineer, "
        "8 years of experience.",
    ),
    "transcript": (
        "[00:00:04] Agent: Thanks for calling, who am I speaking with?\n[00:00:07] Caller: "
        "It's {name}, my date of birth is {dob}, and I'm calling from {phone}.",
        "[00:01:12] Caller: The card is {card}, expiry 09/28.\n[00:01:20] Agent: Thank you, "
        "{first}. I'll send the confirmation to {email}.",
    ),
    "prose": (
        "{name} moved from {city} to {city_2} in {date} and now runs a small bakery near "
        "{street}. Friends still reach her at {email}.",
        "After the conference, {name} and {name_2} wrote up their notes over coffee in "
        "{city} and sent them to the whole team before the long flight home.",
    ),
    NEGATIVE_KIND: (
        "Release {version} fixes the memory leak in the cache layer (build {build}, commit "
        "{sha}). Upgrade with pip install -U our-sdk.",
        "Order {order} shipped: 3 items, SKU {sku}, tracking ref {tracking}. Request id "
        "{uuid}. Estimated delivery in 2-4 working days.",
        "Deploy of api {version} to prod-eu finished in {ms} ms; pods {pod} and {pod_2} "
        "are healthy, error rate 0.02%.",
        "def retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n"
        "            return fn()\n        except TimeoutError:\n            time.sleep(2 ** i)"
        "\n    raise RuntimeError('gave up')",
        "Invoice {invoice} totals {amount} EUR, due in 30 days. PO {po}, cost centre {n}. "
        "File version 10.0.19041.{n_2}, checksum {sha}.",
    ),
}


def _lines(pool: tuple[str, ...], *, low: int, high: int) -> Template:
    """A block of `low..high` lines drawn from `pool`, each line with its own slot values."""

    def draw(rng: random.Random) -> str:
        count = rng.randrange(low, high + 1)
        return "\n".join(_retag(rng.choice(pool), f"l{i}") for i in range(count))

    return draw


def _retag(template: str, tag: str) -> str:
    """Give every untagged slot in `template` the tag, so each line draws new values."""
    out: list[str] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            # Tagged slots (`{name_2}`) name a shared person on purpose; keep them.
            out.append("{" + (field if "_" in field else f"{field}_{tag}") + "}")
    return "".join(out)


_LOG_LINES = (
    '{time} INFO  auth.login user="{email}" src={ip} session={uuid} result=ok',
    "{time} INFO  http GET /api/v2/orders/{order} 200 {ms}ms client={ip}",
    "{time} DEBUG cache.hit key=order:{order} ttl=300",
    "{time} INFO  worker.job id={uuid} queue=emails status=done duration_ms={ms}",
    "{time} WARN  auth.failed user={email} src={ip6} reason=bad_password count={n}",
    "{time} ERROR payments.capture order={order} card={card} error=insufficient_funds",
    '{time} INFO  profile.update user_id={n} name="{name}" phone="{phone}"',
    "{time} INFO  k8s pod={pod} image=registry.local/api:{version} ready=true",
    '{time} WARN  geo.lookup ip={ip} city="{city}" confidence=0.{n}',
    '{time} INFO  kyc.submit applicant="{name}" ssn={ssn} dob={dob} status=pending',
    "{time} DEBUG sql SELECT id, status FROM orders WHERE id = {order} LIMIT 1 -- {ms}ms",
    "{time} INFO  payout.created iban={iban} amount={amount} currency=EUR ref={invoice}",
    "{time} INFO  healthcheck ok version={version} uptime_s={n}",
)

_TRANSCRIPT_TURNS = (
    "Agent ({first_2}): Thank you for calling, you're speaking with {first_2}.",
    "Caller: Hi, yes, I'm calling about my account, it's {name}.",
    "Agent ({first_2}): Can you confirm the date of birth on file?",
    "Caller: It's {dob}.",
    "Agent ({first_2}): And the phone number we should use to reach you?",
    "Caller: Best is my mobile, {phone}.",
    "Caller: I moved, the new address is {street} in {city}.",
    "Agent ({first_2}): I see a charge on the card ending in the last four digits, is that yours?",
    "Caller: No, the full number is {card}, I never made that purchase.",
    "Agent ({first_2}): I've sent a confirmation to {email}.",
    "Caller: Also my wife {name_3} should be added as an authorized user.",
    "Agent ({first_2}): Sure, I just need her social, the full nine digits.",
    "Caller: Her SSN is {ssn}.",
    "Agent ({first_2}): Okay, reference number {ticket} for this call.",
    "Caller: Great, thanks so much for your help today.",
)


def _transcript(rng: random.Random) -> str:
    """Turns kept in script order and timed, sharing one caller and one agent."""
    count = rng.randrange(8, len(_TRANSCRIPT_TURNS) + 1)
    seconds = rng.randrange(600)
    lines = []
    for index in sorted(rng.sample(range(len(_TRANSCRIPT_TURNS)), count)):
        seconds += rng.randrange(3, 40)
        stamp = f"[{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}]"
        lines.append(f"{stamp} {_TRANSCRIPT_TURNS[index]}")
    return "\n".join(lines)


_CSV_ROWS = (
    "{n},{name},{email},{phone},{city},{date},active",
    "{n},{last} {first},{email},{phone},{city},{date},churned",
    "{n},{name},{email},,{city},{date},lead",
)

BLOCKS: dict[str, tuple[Template, ...]] = {
    "chat": (
        "User: I'm writing a cover letter. My name is {name}, I live in {city} and my email "
        'is {email}. Can you make this paragraph sound more confident?\n\n"I have worked in '
        "logistics for six years, most recently at a warehouse near {street}. I think I could "
        'be a good fit for your team, and I am available from {date}."\n\nAssistant: Here is '
        'a more confident version:\n\n"With six years in logistics, most recently running '
        "inbound operations, I am confident I can strengthen your team from day one. I am "
        'available to start on {date}."',
        "User: My bank sent a letter I don't understand. It says the transfer from IBAN "
        "{iban} to {name_2} was returned because the beneficiary name did not match. I "
        "entered '{name_2}' exactly. Their number is {phone_2}. What should I ask them?\n\n"
        "Assistant: Ask them which name the receiving bank holds for the account, whether "
        "the account is still open, and when the funds will be back in your account.",
        "User: Please fix the grammar: 'Dear {name}, we was unable to process you're payment "
        "with card {card}. Please update you're billing details at {url} before {date}.'\n\n"
        "Assistant: 'Dear {name}, we were unable to process your payment. Please update your "
        "billing details at {url} before {date}.' I removed the card number: it should never "
        "appear in an email.",
    ),
    "ticket": (
        "Ticket #{ticket}\nOpened: {date}\nRequester: {name} <{email}>\nPhone: {phone}\n"
        "Subject: Package marked delivered but never arrived\n\nHello,\n\nMy order {order} "
        "shows as delivered, but nothing was left at {street}, {city}. My neighbour {name_2} "
        "checked too. The driver's photo shows a different door. I'd like a replacement or a "
        "refund to the original card ({card}).\n\nThanks,\n{first}\n\n--- Agent note ---\n"
        "Verified address. Carrier claim {tracking} opened. Refund approved by {name_3}.",
        "Ticket #{ticket} (priority: high)\nFrom: {email}\nDevice IP: {ip}\n\n"
        "I can't log in since the update to {version}. I get 'session expired' straight "
        "after the MFA code. I tried from home ({ip6}) and from the office, same thing. "
        "Please call {phone} before 5pm. - {name}\n\n[Internal] Looks like clock skew on the "
        "token service; see {url}. Assigned to {name_2}.",
        "Subject: Wrong name on my invoice\nFrom: {name} <{email}>\n\nInvoice {invoice} from "
        "{date} is addressed to '{name_2}', who moved out last year. Please reissue it to me "
        "at {street}, {city}. For verification, the last payment came from IBAN {iban}.",
    ),
    "crm": (
        _lines(_CSV_ROWS, low=8, high=20),
        "Account: {company}\nPrimary contact: {name}, Head of Procurement\nEmail: {email}\n"
        "Direct line: {phone}\nBilling address: {street}, {city}\nAccount owner: {name_2}\n"
        "Notes: met at the {city_2} trade fair on {date}. Interested in the enterprise tier, "
        "wants a security review first. Send the DPA to {email_3} ({name_3}, legal).\n",
        "Lead {n} - {name}\n  source: webinar {date}\n  email: {email}\n  phone: {phone}\n"
        "  linkedin: {profile}\n  location: {city}\n  score: 0.{n_2}\n  next step: demo "
        "booked by {name_2}\n",
    ),
    "bank": (
        "STATEMENT EXTRACT - account holder {name}\nIBAN: {iban}\nAddress: {street}, {city}\n"
        "Date of birth: {dob}\nTax id (US SSN): {ssn}\n\nDATE        DESCRIPTION                "
        "AMOUNT\n{date}  SEPA transfer to {name_2} ({iban_2})  -{amount}\n{date_2}  Card "
        "payment {card}  -{amount_2}\n{date_3}  Salary {company}  +{amount_3}\n",
        "Wire request #{ticket}\nOrdering customer: {name}, {street}, {city}\nDebit account: "
        "{iban}\nBeneficiary: {name_2}\nBeneficiary account: {iban_2}\nAmount: {amount} EUR\n"
        "Purpose: invoice {invoice}\nCallback verification done with {phone} on {date} by "
        "{name_3}.\n",
        "Fraud review - case {ticket}\nCard {card} used from {ip} ({city}) and {ip_2} within "
        "4 minutes. Cardholder {name}, phone {phone}, email {email}. Customer confirmed the "
        "first transaction only. Card blocked; replacement sent to {street}, {city_2}.",
    ),
    "clinical": (
        "CLINIC NOTE\nPatient: {name}    DOB: {dob}    MRN: {mrn}\nAddress: {street}, {city}\n"
        "Phone: {phone}    SSN: {ssn}\nVisit: {date}    Provider: Dr. {name_2}\n\nS: 54-year-"
        "old presents with three days of productive cough and low-grade fever. No chest pain."
        "\nO: T 38.1 C, HR 92, SpO2 96% RA. Crackles right base.\nA: Community-acquired "
        "pneumonia, mild.\nP: Amoxicillin 1 g TID x 5 days. Return if worse. Follow-up with "
        "Dr. {last_2} on {date_2}. Emergency contact {name_3}, {phone_3}.\n",
        "Discharge summary for {name} (MRN {mrn}, DOB {dob}). Admitted {date} via the "
        "emergency department in {city} after a fall at home ({street}). X-ray showed no "
        "fracture. Discharged {date_2} to the care of her daughter {name_2}, reachable at "
        "{phone_2} or {email_2}. Outpatient physiotherapy booked.",
    ),
    "log": (
        _lines(_LOG_LINES, low=10, high=30),
        _lines(_LOG_LINES, low=10, high=30),
    ),
    "code": (
        'Traceback (most recent call last):\n  File "/srv/app/billing/charge.py", line 88, '
        'in capture\n    result = gateway.capture(order_id, amount)\n  File "/srv/app/'
        'billing/gateway.py", line 41, in capture\n    raise PaymentError(f"declined for '
        '{{customer}}")\nbilling.errors.PaymentError: declined for {email} (card {card}, '
        "order {order})\n",
        "# fixtures for the signup flow, copied from a prod ticket (TODO: anonymise!)\n"
        'USERS = [\n    {{"name": "{name}", "email": "{email}", "phone": "{phone}"}},\n'
        '    {{"name": "{name_2}", "email": "{email_2}", "ssn": "{ssn}"}},\n]\n\n'
        'def test_signup_accepts_valid_user(client):\n    resp = client.post("/signup", '
        "json=USERS[0])\n    assert resp.status_code == 201\n",
        "java.lang.IllegalStateException: Duplicate key {email}\n\tat java.util.stream."
        "Collectors.duplicateKeyException(Collectors.java:133)\n\tat com.acme.crm.ImportJob."
        "run(ImportJob.java:214)\n\tat com.acme.crm.Scheduler.lambda$tick$0(Scheduler.java:57)"
        "\nCaused by: row 1187 [{name}, {phone}, {city}] from upload by {name_2} ({ip})\n",
        "upstream backend {{\n    server {ip}:8443 max_fails=3;\n    server {ip_2}:8443 "
        "backup;\n}}\n# owner: {name} <{email}>, on call {phone}\nlocation /v2/ {{\n    "
        "proxy_pass https://backend;\n    proxy_set_header X-Real-IP $remote_addr;\n}}\n",
    ),
    "cv": (
        "{name}\n{street} · {city}\n{phone} · {email}\n{profile}\nDate of birth: {dob}\n\n"
        "PROFILE\nBackend engineer with nine years of experience building payment and "
        "logistics systems in Python and Go. Comfortable owning services end to end.\n\n"
        "EXPERIENCE\n{company}, {city_2} - Staff Engineer ({date} - present)\n- Led the move "
        "of the ledger service to event sourcing; p99 latency down 40%.\n- Mentored four "
        "engineers; ran the on-call rotation.\n{company_2} - Software Engineer\n- Built the "
        "fraud-scoring pipeline handling 3k events/s.\n\nEDUCATION\nMSc Computer Science, "
        "2013\n\nREFERENCES\n{name_2}, former manager - {email_2}, {phone_2}\n",
    ),
    "transcript": (
        _transcript,
        _transcript,
        "Call recording {uuid} ({date}, {city} contact centre)\nParticipants: {name_2} "
        "(agent), {name} (customer)\n",
    ),
    "prose": (
        "When {name} first arrived in {city}, she knew nobody and spoke only a little of the "
        "language. She rented a room above a bakery on {street}, and every morning the smell "
        "of bread woke her before the alarm did. Within a year she had a job at a design "
        "studio, a bicycle, and a small circle of friends who met every Thursday at a cafe "
        "by the river. Her brother {name_2} visited in {date}, and the two of them walked "
        "the length of the old city wall in an afternoon, arguing cheerfully about whether "
        "she would ever move back home.",
        "The committee met on {date} to review the proposal. {name} presented the budget; "
        "{name_2} raised concerns about the timeline, and the group agreed to revisit the "
        "question once the site survey in {city} was complete. Minutes will be circulated "
        "by email to {email} and archived at {url}.",
        "Rivers have always shaped the cities built along them. They decided where bridges "
        "went, where markets grew, and which neighbourhoods flooded each spring. Many of the "
        "oldest streets still follow the curve of a bank that was paved over centuries ago, "
        "and a careful walker can trace the old water line in the slope of a square or the "
        "odd angle of a row of houses.",
    ),
    NEGATIVE_KIND: (
        "## Changelog\n\n### {version} ({build})\n- Fix race in connection pool shutdown "
        "(#{n}).\n- Bump protobuf to 6.31.1.\n- Drop Python 3.9 support.\n\n### {version_2}\n"
        "- New `retry_budget` option; default 0.2.\n- Commit {sha}: faster JSON encoding.\n",
        "Order summary\nOrder: {order}\nItems: 2 x {sku}, 1 x {sku_2}\nSubtotal: {amount} USD"
        "\nShipping: standard (tracking {tracking})\nRequest id: {uuid}\nTrace id: {sha}\n",
        'def parse_version(text: str) -> tuple[int, ...]:\n    """\'1.2.3\' -> (1, 2, 3)."""\n'
        "    return tuple(int(part) for part in text.split('.'))\n\n\nassert parse_version("
        '"{version}") > (0, 9)\nBUILD_ID = "{uuid}"\n',
        "Benchmark run {uuid} on {pod}: 1.2M ops in {ms} ms, p99 4.1 ms, RSS 312 MiB. "
        "Baseline {version} vs candidate {version_2}; delta within noise.",
        "Deployment manifest: image api:{version}, replicas 3, cpu 500m, memory 512Mi, "
        "port {port}, readinessProbe /healthz every 10s. Config checksum {sha}.",
    ),
}

KINDS: tuple[str, ...] = tuple(BLOCKS)
