"""Configuration: defaults, then ``.env``, then ``GATEWAY_*`` environment variables, then a test mapping.

Every key is listed in ``.env.example``. Values are parsed and checked here once, so the rest of the code
reads typed attributes of :class:`Settings` and never touches ``os.environ``.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

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
    return _check(_with_keys(settings))


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
