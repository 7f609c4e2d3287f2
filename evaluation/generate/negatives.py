"""Negative-part families used while tuning: text with no personal data that is hard on purpose.

Versions, order and tracking numbers, hashes, timestamps, stack traces, SQL, config, words that
are also first names ("Will", "Mark", "Grant", "Bill", "Rose", "Hope", "June", "Summer"),
product names, public documentation URLs, amounts, ISBNs and part numbers. A redactor must
leave all of it unchanged. Never a person's name, an e-mail, a phone number, an address, a
city or country name, or an IP address: `build` re-draws a document that looks like one.
"""

from __future__ import annotations

import random

from evaluation.generate.family import Body, Family

__all__ = ["NEGATIVE", "repeat"]


def repeat(pool: tuple[str, ...], *, low: int, high: int, head: str = "", sep: str = "\n") -> Body:
    """`head` then `low..high` items drawn from `pool` (filler slots fresh in each)."""

    def draw(rng: random.Random) -> str:
        count = rng.randrange(low, high + 1)
        return head + sep.join(rng.choice(pool) for _ in range(count))

    return draw


_RELEASE_ITEMS = (
    "- Fixed a memory leak in the cache layer (build {{build}}, commit {{short}}).",
    "- Bumped the minimum runtime to {{version}}; see {{puburl}}.",
    "- The `retry` option now defaults to 3 attempts with exponential backoff.",
    "- Will now mark stale sessions as expired after {{n}} minutes.",
    "- Grant and revoke endpoints return {{status}} instead of 500 on bad input.",
    "- Bill payments over {{amount}} need a second approval step.",
    "- Dark theme: primary colour is now {{color}}, accent {{color}}.",
    "- Upgraded the parser dependency to {{semver}} ({{sha}}).",
    "- The Summer release adds offline mode to {{product}}.",
    "- Hope you enjoy the faster start-up: cold start dropped by {{pct}}.",
    "- Default port changed from 8080 to {{port}}.",
    "- Deprecated `legacy_mode`; it will be removed in {{version}}.",
)

_CHANGELOG_HEAD = "# Changelog\n\nAll notable changes to this project are documented here.\n\n"
_CHANGELOG_ITEMS = (
    "## [{{version}}] - {{today}}\n### Fixed\n- Crash when the config file is empty.\n"
    "- Off-by-one in pagination (#{{build}}).",
    "## [{{version}}] - {{today}}\n### Added\n- `--dry-run` flag for the migrate command.\n"
    "### Changed\n- Logs are JSON by default.",
    "## [{{version}}] - {{today}}\n### Security\n- Rotated the signing key; fingerprint "
    "{{sha256}}.",
)

_PY_TRACE = (
    'Traceback (most recent call last):\n  File "/srv/app/worker/main.py", line {{n}}, in run\n'
    "    result = handler(job)\n"
    '  File "/srv/app/worker/handlers.py", line {{n}}, in handler\n'
    "    return parse_order(job.payload)\n"
    '  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode\n'
    '    raise JSONDecodeError("Expecting value", s, err.value) from None\n'
    "json.decoder.JSONDecodeError: Expecting value: line 1 column {{n}} (char {{n}})\n"
    "job_id={{uuid}} attempt={{n}} build={{build}}",
    'Traceback (most recent call last):\n  File "/opt/venv/lib/python3.12/site-packages/'
    'sqlalchemy/engine/base.py", line 1967, in _exec_single_context\n'
    "    self.dialect.do_execute(\n"
    "sqlalchemy.exc.IntegrityError: duplicate key value violates unique constraint "
    '"orders_pkey"\nDETAIL:  Key (id)=({{order}}) already exists.\n'
    "(Background on this error at: https://sqlalche.me/e/20/gkpj)",
)
_JAVA_TRACE = (
    'Exception in thread "main" java.lang.NullPointerException: Cannot invoke '
    '"com.acme.billing.Invoice.getTotal()" because "invoice" is null\n'
    "\tat com.acme.billing.InvoiceService.total(InvoiceService.java:{{n}})\n"
    "\tat com.acme.billing.InvoiceController.show(InvoiceController.java:{{n}})\n"
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:{{n}})\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
    "Caused by: java.lang.IllegalStateException: invoice {{invoice}} not loaded\n\t... 42 more",
)

_SQL = (
    "-- migration {{today}}_add_order_index.sql\nBEGIN;\nCREATE INDEX CONCURRENTLY IF NOT "
    "EXISTS orders_created_idx ON orders (created_at);\nALTER TABLE orders ADD COLUMN "
    "tracking_no text;\nUPDATE orders SET status = 'shipped' WHERE id = {{order}};\n"
    "SELECT id, status, total_cents FROM orders WHERE created_at > '{{today}}' LIMIT 50;\n"
    "COMMIT;\n-- checksum {{sha}}",
)

_CONFIG = (
    "# service.yaml, version {{version}}\nserver:\n  port: {{port}}\n  read_timeout_ms: "
    "{{ms}}\n  max_body_bytes: 1048576\ncache:\n  ttl_seconds: 300\n  namespace: orders-v2\n"
    "retry:\n  attempts: 3\n  backoff: exponential\nimage: registry.local/api@sha256:{{sha256}}\n"
    "build: {{build}}\nrelease_id: {{uuid}}\n",
    '{\n  "name": "@acme/checkout-ui",\n  "version": "{{version}}",\n  "dependencies": {\n    '
    '"react": "{{semver}}",\n    "zod": "{{semver}}",\n    "date-fns": "{{semver}}"\n  },\n  '
    '"engines": { "node": ">=20" },\n  "gitHead": "{{sha}}"\n}',
)

_ORDER_LINES = (
    "Order {{order}}: 3 items, part {{part}}, tracking {{tracking}}, total {{amount}}.",
    "Invoice {{invoice}} ({{amount}}) is due in 30 days; PO {{part}}.",
    "Shipment {{tracking}} left the warehouse at {{time}}; request id {{uuid}}.",
    "Order {{order}} was cancelled; refund {{amount}} issued on {{date}}.",
    "Back-ordered: part {{part}} (ISBN {{isbn}}), expected {{date}}.",
    "Dear customer, your order {{order}} is ready for pick-up. Mark it as received in the app.",
)

_BUILD_LINES = (
    "[{{ts}}] Step {{n}}/12 : RUN pip install -r requirements.txt",
    "[{{ts}}] Successfully built {{short}}",
    "[{{ts}}] Pushing image registry.local/api:{{version}} digest sha256:{{sha256}}",
    "[{{ts}}] Tests: {{n}} passed, 0 failed, {{n}} skipped in {{ms}} ms",
    "[{{ts}}] Coverage {{pct}} (threshold 80%)",
    "[{{ts}}] HTTP {{status}} from artifact store after {{ms}} ms, retrying",
    "[{{ts}}] Build #{{build}} finished: SUCCESS",
    "[{{ts}}] Warning: Jasmine spec 'cart totals' took {{ms}} ms",
)

_PRODUCT_COPY = (
    "Meet {{product}}: the fastest way to keep your notes in sync. Will it replace your old "
    "setup? We hope so. Grant access to your team in one click, mark favourites, and pay one "
    "bill per workspace: {{amount}} a month.",
    "Jasmine, our tea blend of the month, pairs well with the Rose shortbread. Summer stock "
    "is limited: order before the end of June. Prices rose {{pct}} this year, sorry!",
    "Dear customer,\n\nThank you for choosing {{product}}. Your licence key is valid until "
    "{{date}}. Will you help us improve? Mark the features you use most in the survey.\n\n"
    "The {{company}} team",
)

_API_DOCS = (
    "## Errors\n\n| Status | Meaning |\n|---|---|\n| 400 | Malformed request body |\n| 401 | "
    "Missing or expired token |\n| 429 | Rate limited; retry after the `Retry-After` header |\n\n"
    "The API listens on port {{port}}. Reference: {{puburl}}. Regex syntax follows "
    "https://docs.python.org/3/library/re.html.",
    "### Pagination\nPass `page_size` (max 500) and the opaque `cursor` returned by the last "
    "call, e.g. `cursor={{uuid}}`. Responses take about {{ms}} ms. See {{puburl}}.",
)

NEGATIVE: tuple[Family, ...] = (
    Family("neg.release_notes", "release_notes",
           (repeat(_RELEASE_ITEMS, low=3, high=30, head="Release {{version}} ({{today}})\n\n"),)),
    Family("neg.changelog", "changelog", (repeat(_CHANGELOG_ITEMS, low=2, high=10,
                                                 head=_CHANGELOG_HEAD, sep="\n\n"),)),
    Family("neg.stack_trace", "stack_trace", (*_PY_TRACE, *_JAVA_TRACE)),
    Family("neg.sql", "sql", (repeat(_SQL, low=1, high=4, sep="\n\n"),)),
    Family("neg.config", "config", _CONFIG),
    Family("neg.orders", "orders", (repeat(_ORDER_LINES, low=2, high=25),)),
    Family("neg.build_log", "log", (repeat(_BUILD_LINES, low=4, high=40),)),
    Family("neg.product_copy", "prose", _PRODUCT_COPY),
    Family("neg.api_docs", "docs", _API_DOCS),
)  # fmt: skip
