"""Configuration: defaults, then ``.env``, then ``GATEWAY_*`` environment variables, then a test mapping.

Every key is listed in ``.env.example``. Values are parsed and checked here once, so the rest of the code
reads typed attributes of :class:`Settings` and never touches ``os.environ``.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.pdf.wording import CONTACT_MAX_CHARS
from gateway.pdf.wording import phone_number
from gateway.pdf.wording import privacy_word

PREFIX = "GATEWAY_"
SQLITE_DEFAULT = "sqlite:///instance/gateway.sqlite3"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Typed configuration. Attribute names are the keys without the ``GATEWAY_`` prefix, lower-cased."""

    database_url: str = SQLITE_DEFAULT
    secret_key: str = ""
    data_key: str = ""
    public_keyring: str = ""
    """The internet-facing process's keys (``gateway keys public``) instead of ``data_key``; see crypto."""
    mode: str = "full"
    """``full`` (staff, API, jobs) or ``public`` (agent API + payer page only, no key that decrypts names)."""
    instance_dir: str = "instance"
    public_base_url: str = "http://127.0.0.1:8000"
    issuer_prefix: str = "912345"
    consignor_code: str = "00123"
    slip_amount_cap: int = 300_000
    barcode_grace_days: int = 30
    stamp_flag: int = 0
    printer_dpi: int = 400
    """Resolution of the slips' printer: every barcode module is a whole number of its dots."""
    barcode_module_dots: int = 0
    """Dots per barcode module; 0: the widest that keeps the symbol within 60 mm (3 at 400 dpi)."""
    barcode_bar_height_mm: float = 10.0
    payee_label: str = "会計管理者"
    item_label: str = "納付金"
    sender_label: str = "会計管理者"
    sender_address: str = ""
    issuer_name: str = "見本市"
    seal_image: str = ""
    contact_name: str = ""
    """お問い合わせ先 on every slip and the payer pages: a neutral section (e.g. 〇〇市 会計課 収納係)."""
    contact_phone: str = ""
    """Digits and hyphens, 10 or 11 digits (printed, and a ``tel:`` link on the payer pages)."""
    contact_hours: str = ""
    """When the contact answers, e.g. 平日 8時30分〜17時15分."""
    counter_bank: str = ""
    """Where a slip is paid after its 取扱期限, with the slip itself: e.g. 指定金融機関(〇〇銀行)の窓口."""
    accepted_channels: tuple[str, ...] = (
        "セブン-イレブン",
        "ローソン",
        "ファミリーマート",
        "デイリーヤマザキ",
        "ミニストップ",
        "セイコーマート",
        "ポプラ",
        "PayPay",
        "au PAY",
        "d払い",
    )
    inbox_dir: str = ""
    """Default ``<instance_dir>/inbox``."""
    archive_dir: str = ""
    """Default ``<instance_dir>/archive``."""
    unconfirmed_days: int = 14
    print_batch_days: int = 14
    """Days after its creation a print batch stays visible and downloadable for the print contractor."""
    fetch_sources: str = ""
    """Path of a JSON file describing HTTPS sources for ``settlements fetch`` (see docs/fetch.md)."""
    scheduler: bool = True
    schedule_inbox: str = "*/5 * * * *"
    schedule_fetch: str = "0 * * * *"
    schedule_reconcile: str = "15 * * * *"
    schedule_ageing: str = "30 6 * * *"
    schedule_daily_report: str = "0 7 * * *"
    session_cookie_secure: bool = False
    session_idle_minutes: int = 30
    """A staff session unused this long ends (the browser is sent to sign in again)."""
    session_max_hours: int = 12
    """A staff session ends this long after sign-in, however busy."""
    login_account_failures: int = 5
    """Failed sign-ins of one account name within ``login_window_minutes`` that lock it."""
    login_address_failures: int = 20
    """Failed sign-ins from one client address within ``login_window_minutes`` that lock the address."""
    login_window_minutes: int = 15
    login_lock_max_minutes: int = 15
    """Locks start at 1 minute and double with each further lock up to this."""
    max_post_bytes: int = 4 * 1024 * 1024
    """Largest request body of a JSON post or form (413 before the body is read, verified or archived)."""
    max_upload_bytes: int = 64 * 1024 * 1024
    """Largest request body of a file upload (settlement files, the claim import)."""
    idempotency_in_flight_seconds: int = 120
    """Seconds after which an ``Idempotency-Key`` left in flight (its worker died) may be taken over."""
    signature_v1_until: str = ""
    """Last day (Japan time, ``YYYY-MM-DD``) agent clients may sign with version 1; empty: no end yet."""
    rejected_post_keep_bytes: int = 64 * 1024
    """A rejected agent post up to this size is archived; a larger one only by SHA-256, size and error."""
    profile_dir: str = ""
    """Directory of the office's own agent-layout profiles (``*.toml``, docs/agent-profiles.md); each becomes
    an adapter named after it when the settings load. Empty: the built-in adapters only."""
    bank_mappings: str = ""
    """Directories (``os.pathsep``-separated) of the office's bank-counter column mappings (``*.toml``,
    docs/settlements.md "The bank counter"). Empty: the built-in synthetic example only."""
    log_level: str = "INFO"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def instance_path(self) -> Path:
        return Path(self.instance_dir)


_CASTS: dict[str, Any] = {
    "slip_amount_cap": int,
    "barcode_grace_days": int,
    "stamp_flag": int,
    "unconfirmed_days": int,
    "print_batch_days": int,
    "printer_dpi": int,
    "barcode_module_dots": int,
    "barcode_bar_height_mm": float,
    "scheduler": _bool,
    "session_cookie_secure": _bool,
    "session_idle_minutes": int,
    "session_max_hours": int,
    "login_account_failures": int,
    "login_address_failures": int,
    "login_window_minutes": int,
    "login_lock_max_minutes": int,
    "max_post_bytes": int,
    "max_upload_bytes": int,
    "idempotency_in_flight_seconds": int,
    "rejected_post_keep_bytes": int,
    "accepted_channels": _list,
}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build :class:`Settings` from ``GATEWAY_*`` variables and ``overrides`` (which win), then check them.

    Keys are generated into the instance folder on first use with SQLite; PostgreSQL requires them.

    Raises:
        ConfigError: a value of the wrong type, or a required key missing.
    """
    environ = os.environ if environ is None else environ
    if PREFIX + "BARCODE_MODULE_WIDTH_MM" in environ:
        raise ConfigError(
            "GATEWAY_BARCODE_MODULE_WIDTH_MM is replaced by GATEWAY_PRINTER_DPI and "
            "GATEWAY_BARCODE_MODULE_DOTS (a module is a whole number of printer dots: 3 at 400 dpi)"
        )
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)} - {"extra"}
    for name in known:
        raw = environ.get(PREFIX + name.upper())
        if raw is None:
            continue
        try:
            values[name] = _CASTS.get(name, str)(raw)
        except ValueError as ex:
            raise ConfigError(f"{PREFIX}{name.upper()}: {ex}") from ex
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key.lower() in known:
            values[key.lower()] = value
        else:
            extra[key] = value
    for name in ("inbox_dir", "archive_dir"):
        if not values.get(name):
            values[name] = str(Path(values.get("instance_dir", "instance")) / name.removesuffix("_dir"))
    settings = Settings(**values, extra=extra)
    return _with_formats(_check(_with_contact(_with_keys(settings))))


def _check(s: Settings) -> Settings:
    if not (len(s.issuer_prefix) == 6 and s.issuer_prefix.isdigit() and s.issuer_prefix[0] in "95"):
        raise ConfigError("GATEWAY_ISSUER_PREFIX must be 6 digits beginning with 9 or 5")
    if not (len(s.consignor_code) == 5 and s.consignor_code.isdigit()):
        raise ConfigError("GATEWAY_CONSIGNOR_CODE must be 5 digits")
    if not 1 <= s.slip_amount_cap <= 999_999:
        raise ConfigError("GATEWAY_SLIP_AMOUNT_CAP must be 1 … 999999 yen")
    if s.barcode_grace_days < 0:
        raise ConfigError("GATEWAY_BARCODE_GRACE_DAYS must not be negative")
    if s.stamp_flag not in (0, 1):
        raise ConfigError("GATEWAY_STAMP_FLAG must be 0 or 1")
    if s.mode not in ("full", "public"):
        raise ConfigError("GATEWAY_MODE must be 'full' or 'public'")
    if s.mode == "public" and s.data_key:
        raise ConfigError(
            "GATEWAY_MODE=public must run without GATEWAY_DATA_KEY (use GATEWAY_PUBLIC_KEYRING)"
        )
    if s.unconfirmed_days < 1:
        raise ConfigError("GATEWAY_UNCONFIRMED_DAYS must be at least 1")
    if s.print_batch_days < 1:
        raise ConfigError("GATEWAY_PRINT_BATCH_DAYS must be at least 1")
    if s.session_idle_minutes < 1 or s.session_max_hours < 1:
        raise ConfigError("GATEWAY_SESSION_IDLE_MINUTES and GATEWAY_SESSION_MAX_HOURS must be at least 1")
    if min(s.login_account_failures, s.login_address_failures, s.login_window_minutes) < 1:
        raise ConfigError("GATEWAY_LOGIN_* failure counts and window must be at least 1")
    if s.login_lock_max_minutes < 1:
        raise ConfigError("GATEWAY_LOGIN_LOCK_MAX_MINUTES must be at least 1")
    if s.max_post_bytes < 1024 or s.max_upload_bytes < 1024:
        raise ConfigError("GATEWAY_MAX_POST_BYTES and GATEWAY_MAX_UPLOAD_BYTES must be at least 1024")
    if s.idempotency_in_flight_seconds < 1:
        raise ConfigError("GATEWAY_IDEMPOTENCY_IN_FLIGHT_SECONDS must be at least 1")
    if s.signature_v1_until:
        try:
            datetime.date.fromisoformat(s.signature_v1_until)
        except ValueError:
            raise ConfigError("GATEWAY_SIGNATURE_V1_UNTIL must be a date YYYY-MM-DD or empty") from None
    if s.rejected_post_keep_bytes < 0:
        raise ConfigError("GATEWAY_REJECTED_POST_KEEP_BYTES must not be negative")
    return s


CONTACT_SETTINGS = ("contact_name", "contact_phone", "contact_hours", "counter_bank")
"""The office's contact printed on every slip and the payer pages (see docs/slips.md)."""
DEMO_CONTACT: dict[str, Any] = {
    "contact_name": "見本市 会計課 収納係",
    "contact_phone": "000-0000-0000",
    "contact_hours": "平日 8時30分〜17時15分",
    "counter_bank": "指定金融機関(見本銀行)の窓口",
}
"""Synthetic contact of the demo and the tests: used only while the issuer is the demo's 見本市 too."""


def _with_contact(s: Settings) -> Settings:
    """Check the contact settings; fill in the synthetic demo contact when nothing about the office is set.

    An office that names itself (``GATEWAY_ISSUER_NAME``) or sets any contact setting must set all four: a
    slip with the demo's phone number, or half of one office's contact, must never be printed.
    """
    demo_issuer = s.issuer_name == next(f.default for f in fields(Settings) if f.name == "issuer_name")
    if demo_issuer and not any(getattr(s, name).strip() for name in CONTACT_SETTINGS):
        s = replace(s, **DEMO_CONTACT)
    changes: dict[str, Any] = {}
    for name in CONTACT_SETTINGS:
        key = PREFIX + name.upper()
        value = getattr(s, name).strip()
        if not value:
            raise ConfigError(
                f"{key} is required: the office's contact is printed on every slip "
                f"(set {', '.join(PREFIX + n.upper() for n in CONTACT_SETTINGS)})",
                field=key,
            )
        if any(unicodedata.category(c).startswith("C") for c in value):
            raise ConfigError(f"{key} must be one line of text", field=key)
        word = privacy_word(value)
        if word is not None:
            raise ConfigError(
                f"{key} contains {word!r}: slips and the payer page must not tell why money is owed "
                "(name a neutral section, e.g. 会計課 収納係)",
                field=key,
            )
        most = CONTACT_MAX_CHARS.get(name.removeprefix("contact_"))
        if most is not None and len(value) > most:
            raise ConfigError(f"{key} is longer than {most} characters (it must fit the slip)", field=key)
        if name == "contact_phone":
            try:
                value = phone_number(value)
            except ValueError as ex:
                raise ConfigError(f"{key}: {ex}", field=key) from None
        changes[name] = value
    return replace(s, **changes)


def _with_formats(s: Settings) -> Settings:
    """Register the office's agent-layout profiles (``GATEWAY_PROFILE_DIR``) and bank-counter mappings
    (``GATEWAY_BANK_MAPPINGS``): an invalid one stops the start, named.

    The adapters registry is process-wide; loading settings again replaces what earlier settings registered.
    The adapters are imported here only when one of the two is set or they are loaded already: a command that
    reads no settlement file (``gateway claims show``) does not pay for importing them.
    """
    if not (s.profile_dir or s.bank_mappings) and "adapters" not in sys.modules:
        return s
    from adapters import bank_counter
    from adapters import use_profile_dir
    from adapters.errors import ProfileError

    try:
        use_profile_dir(s.profile_dir or None)
    except ProfileError as ex:
        raise ConfigError(f"GATEWAY_PROFILE_DIR: {ex}") from ex
    try:
        bank_counter.configure(s.bank_mappings or None)
    except bank_counter.MappingError as ex:
        raise ConfigError(f"GATEWAY_BANK_MAPPINGS: {ex}") from ex
    return s


def _with_keys(s: Settings) -> Settings:
    """Fill in missing keys from (or into) the instance folder when the database is SQLite."""
    changes: dict[str, Any] = {}
    wanted = ["secret_key"] + (["data_key"] if s.mode == "full" else [])
    for name in wanted:
        if getattr(s, name):
            continue
        if not s.is_sqlite:
            raise ConfigError(f"{PREFIX}{name.upper()} is required with {s.database_url.split(':')[0]}")
        changes[name] = _instance_key(s.instance_path, name)
    return replace(s, **changes) if changes else s


def _instance_key(instance: Path, name: str) -> str:
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    # O_EXCL: two processes starting at once must not both write a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
