"""Pull new settlement files from the agents' HTTPS servers (``gateway settlements fetch``, job ``fetch``).

The sources are described in the JSON file named by ``GATEWAY_FETCH_SOURCES`` (format and protocol:
``docs/fetch.md``). For each source: GET its listing (a JSON array of ``{"name", "url", "sha256"?,
"size"?}``), download every file not fetched before to a temporary file in the instance folder (streamed,
size and SHA-256 checked against the listing), ingest it (``source="fetch"``) and record it in
``fetched_files``. A failing source is reported and the others go on.

A source of kind ``dsk_pull`` has no listing: it is DSK's 収納データPOST方式取得, a form POST of a date range
that answers the agent's CSV (``dsk_csv``, cp932). It is asked for one Japan business day at a time, each
complete day of the window once (and the latest ``repull_days`` again at every run), and each answer is
ingested as ``dsk-YYYYMMDD.csv`` with the source's agent; see :func:`fetch_dsk_source`.

Transport rules: HTTPS only (plain ``http://``, also by redirect, is refused); connect timeout 10 s, read
timeout 60 s; retries with exponential backoff on connection errors and on 429/502/503/504 (urllib3
``Retry`` on the session's adapter, ``Retry-After`` honoured up to :data:`MAX_RETRY_AFTER`); credentials
come from environment variables the configuration names, and are sent only to the listing's origin.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from requests.adapters import BaseAdapter
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from adapters import dsk_csv
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import ConfigError
from gateway.errors import GatewayError
from gateway.intake.inbox import ingest_document
from gateway.models.base import japan_date
from gateway.models.base import table_of
from gateway.models.fetch import FetchedFile

log = logging.getLogger("gateway.fetch")

USER_AGENT = "konbini-gateway-fetch/1"
RETRY_STATUSES = (429, 502, 503, 504)
#: A server asking to wait longer than this (``Retry-After``) is waited for this long only.
MAX_RETRY_AFTER = 120.0
LISTING_LIMIT = 10 * 1024 * 1024
DEFAULT_MAX_BYTES = 2 * 1024**3
CHUNK = 64 * 1024
TEMP_PREFIX = ".fetch-"
SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_SOURCE_KEYS = {
    "name",
    "url",
    "agent",
    "adapter",
    "auth",
    "verify",
    "timeout",
    "retries",
    "backoff_factor",
    "max_bytes",
    "kind",
    "days_back",
    "repull_days",
    "range_end",
}
FETCHED = table_of(FetchedFile)
_AUTH_KEYS = {
    "bearer": {"type", "token_env"},
    "basic": {"type", "username_env", "password_env"},
    "form": {"type", "user_id_env", "password_env"},
}
SOURCE_KINDS = ("listing", "dsk_pull")
_DSK_ONLY_KEYS = ("days_back", "repull_days", "range_end")
DSK_MAX_DAYS_BACK = 62
DSK_RANGE_ENDS = ("next_day", "same_day")
DSK_ADAPTER = "dsk_csv"
DSK_ERROR_PREFIX = b"error"
"""DSK answers a refused request with HTTP 200 and a short text whose first line is ``error:``."""
DSK_EMPTY_LIMIT = 4096
"""An answer this small may be the header row alone (no data that day)."""


class FetchError(GatewayError):
    """A source or one of its files could not be fetched (network, HTTP status, checksum, listing)."""

    status = 502
    code = "fetch_failed"


# -- configuration


@dataclass(frozen=True)
class Auth:
    type: str
    """``bearer`` or ``basic`` (an ``Authorization`` header), or ``form`` (DSK's ``USER_ID``/``PW`` form
    fields, ``dsk_pull`` sources only)."""
    token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    user_id_env: str | None = None

    @staticmethod
    def _read(environ: Mapping[str, str], var: str | None) -> str:
        value = environ.get(var or "")
        if not value:
            raise FetchError(f"environment variable {var} (named in the fetch configuration) is not set")
        return value

    def form(self, environ: Mapping[str, str]) -> dict[str, str]:
        """DSK's credential form fields, read from the environment now (``form`` auth only).

        Raises:
            FetchError: a named variable is not set.
        """
        return {
            "USER_ID": self._read(environ, self.user_id_env),
            "PW": self._read(environ, self.password_env),
        }

    def header(self, environ: Mapping[str, str]) -> str:
        """The ``Authorization`` value, read from the environment now.

        Raises:
            FetchError: a named variable is not set (its name is given, never a value).
        """

        def read(var: str | None) -> str:
            return self._read(environ, var)

        if self.type == "bearer":
            return f"Bearer {read(self.token_env)}"
        pair = f"{read(self.username_env)}:{read(self.password_env)}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True)
class Source:
    """One HTTPS source of settlement files."""

    name: str
    url: str
    agent: str | None = None
    adapter: str | None = None
    auth: Auth | None = None
    verify: str | None = None
    """CA bundle (PEM) to verify the server with; None: requests' default bundle."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5
    backoff_factor: float = 1.0
    max_bytes: int = DEFAULT_MAX_BYTES
    kind: str = "listing"
    """``listing`` (GET a JSON listing, then each file) or ``dsk_pull`` (POST a date range, CSV back)."""
    days_back: int = 7
    """``dsk_pull``: the window, in complete Japan days before today."""
    repull_days: int = 2
    """``dsk_pull``: the latest days of the window asked for again at every run (late data)."""
    range_end: str = "next_day"
    """``dsk_pull``: ``TO_DATE`` of a day's request: the next day (the public client requires FROM < TO) or
    the same day."""

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def tls_verify(self) -> str | bool:
        """For every request (not the session: requests lets REQUESTS_CA_BUNDLE override a session's)."""
        return self.verify or True


def load_sources(path: str | Path) -> list[Source]:
    """Read and check the sources file (``GATEWAY_FETCH_SOURCES``).

    Raises:
        ConfigError: unreadable file, bad JSON, or a source that breaks a rule (names the source and key).
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as ex:
        raise ConfigError(f"GATEWAY_FETCH_SOURCES: cannot read {path}: {ex.strerror}") from ex
    except ValueError as ex:
        raise ConfigError(f"GATEWAY_FETCH_SOURCES: {path} is not JSON: {ex}") from ex
    return parse_sources(doc, base_dir=path.parent, where=str(path))


def parse_sources(doc: Any, *, base_dir: Path, where: str = "fetch sources") -> list[Source]:
    """Check a parsed sources document: ``{"sources": [...]}`` (or the bare list).

    Raises:
        ConfigError: the first rule broken, naming the source and key.
    """
    items = doc.get("sources") if isinstance(doc, dict) and set(doc) <= {"sources"} else doc
    if not isinstance(items, list):
        raise ConfigError(f'{where}: expected {{"sources": [...]}}')
    sources: list[Source] = []
    for index, item in enumerate(items):
        sources.append(_parse_source(item, index, base_dir, where))
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{where}: source names must be unique: {', '.join(duplicated)}")
    return sources


def _parse_source(item: Any, index: int, base_dir: Path, where: str) -> Source:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: source #{index + 1} is not an object")
    label = f"{where}: source {item.get('name', '#' + str(index + 1))!r}"

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{label}: {key}: {message}", field=key)

    unknown = sorted(set(item) - _SOURCE_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(sorted(_SOURCE_KEYS))})")
    name = item.get("name")
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        raise fail("name", "1-64 letters, digits, '.', '_' or '-'")
    url = item.get("url")
    if not isinstance(url, str):
        raise fail("url", "required")
    problem = url_problem(url)
    if problem:
        raise fail("url", problem)
    for key in ("agent", "adapter"):
        if item.get(key) is not None and not (isinstance(item[key], str) and item[key]):
            raise fail(key, "a non-empty string")
    verify = item.get("verify")
    if verify is not None:
        if not isinstance(verify, str) or not verify:
            raise fail("verify", "the path of a CA bundle (TLS verification cannot be switched off)")
        verify = str((base_dir / verify).resolve())
    timeout = item.get("timeout") or {}
    if not isinstance(timeout, dict) or set(timeout) - {"connect", "read"}:
        raise fail("timeout", '{"connect": seconds, "read": seconds}')
    for key in ("connect", "read"):
        value = timeout.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            raise fail(f"timeout.{key}", "a positive number of seconds")
    retries = item.get("retries", 5)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise fail("retries", "an integer 0 … 10")
    backoff = item.get("backoff_factor", 1.0)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or not 0 <= backoff <= 60:
        raise fail("backoff_factor", "a number of seconds 0 … 60")
    max_bytes = item.get("max_bytes", DEFAULT_MAX_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise fail("max_bytes", "a positive integer")
    kind = item.get("kind", "listing")
    if kind not in SOURCE_KINDS:
        raise fail("kind", f"one of {', '.join(SOURCE_KINDS)}")
    dsk = _parse_dsk(item, fail) if kind == "dsk_pull" else {}
    if kind != "dsk_pull":
        for key in _DSK_ONLY_KEYS:
            if key in item:
                raise fail(key, 'only for "kind": "dsk_pull"')
    auth = _parse_auth(item.get("auth"), fail)
    if auth is not None and auth.type == "form" and kind != "dsk_pull":
        raise fail("auth.type", 'form credentials are for "kind": "dsk_pull" only')
    return Source(
        name=name,
        url=url,
        agent=item.get("agent"),
        adapter=DSK_ADAPTER if kind == "dsk_pull" else item.get("adapter"),
        auth=auth,
        verify=verify,
        connect_timeout=float(timeout.get("connect", 10.0)),
        read_timeout=float(timeout.get("read", 60.0)),
        retries=retries,
        backoff_factor=float(backoff),
        max_bytes=max_bytes,
        kind=kind,
        **dsk,
    )


def _parse_dsk(item: dict[str, Any], fail: Any) -> dict[str, Any]:
    """The ``dsk_pull`` keys: the agent is required (a day without data names none), the adapter is
    ``dsk_csv``."""
    if not item.get("agent"):
        raise fail("agent", 'required for "kind": "dsk_pull" (the agent code the CSV belongs to)')
    if item.get("adapter", DSK_ADAPTER) != DSK_ADAPTER:
        raise fail("adapter", f'a "dsk_pull" source delivers {DSK_ADAPTER} files only')
    days_back = item.get("days_back", 7)
    if (
        isinstance(days_back, bool)
        or not isinstance(days_back, int)
        or not 1 <= days_back <= DSK_MAX_DAYS_BACK
    ):
        raise fail("days_back", f"an integer 1 … {DSK_MAX_DAYS_BACK}")
    repull = item.get("repull_days", min(2, days_back))
    if isinstance(repull, bool) or not isinstance(repull, int) or not 0 <= repull <= days_back:
        raise fail("repull_days", "an integer 0 … days_back")
    range_end = item.get("range_end", "next_day")
    if range_end not in DSK_RANGE_ENDS:
        raise fail("range_end", f"one of {', '.join(DSK_RANGE_ENDS)}")
    return {"days_back": days_back, "repull_days": repull, "range_end": range_end}


def _parse_auth(auth: Any, fail: Any) -> Auth | None:
    if auth is None:
        return None
    if not isinstance(auth, dict) or auth.get("type") not in _AUTH_KEYS:
        raise fail(
            "auth",
            '{"type": "bearer", "token_env": VAR}, {"type": "basic", "username_env", "password_env"} '
            'or (dsk_pull) {"type": "form", "user_id_env", "password_env"}',
        )
    allowed = _AUTH_KEYS[auth["type"]]
    extra = sorted(set(auth) - allowed)
    if extra:
        # Catches the mistake that matters most: a secret written into the file itself.
        raise fail(f"auth.{extra[0]}", "not allowed: name environment variables (…_env), never the secret")
    for key in allowed - {"type"}:
        value = auth.get(key)
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise fail(f"auth.{key}", "the name of an environment variable")
    return Auth(**auth)


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be fetched from, or None: only ``https://host/...``, without credentials in it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "not a URL"
    if parts.scheme != "https":
        return "only https:// URLs are accepted"
    if not parts.hostname:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "credentials do not belong in the URL (use auth with environment variables)"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme == "https" else None),
    )


def redact(url: str) -> str:
    """``url`` without its query or fragment (which may carry a signed token), for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# -- HTTP


class _Retry(Retry):
    """urllib3 ``Retry`` with ``Retry-After`` capped, so one server cannot stall the job for hours."""

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER)


class _RefuseHTTP(BaseAdapter):
    """Mounted on ``http://``: a plain-text request (also by redirect) is an error, never sent."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.exceptions.InvalidURL(f"plain http is refused: {redact(request.url or '')}")

    def close(self) -> None:
        pass


class _OriginAuth(requests.auth.AuthBase):
    """Sends the credentials to the listing's origin only (a file URL elsewhere, e.g. a signed storage
    link, gets none)."""

    def __init__(self, origin: tuple[str, str, int | None], value: str) -> None:
        self.origin, self.value = origin, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if _origin(r.url or "") == self.origin:
            r.headers["Authorization"] = self.value
        return r


def make_session(source: Source, environ: Mapping[str, str] | None = None) -> requests.Session:
    """A session for ``source``: HTTPS only, retries with backoff, credentials for its origin.

    Raises:
        FetchError: a credential's environment variable is not set.
    """
    environ = os.environ if environ is None else environ
    session = requests.Session()
    # A DSK pull is a POST that only reads (a date range in, CSV out): retrying it is as safe as a GET.
    methods = {"GET", "POST"} if source.kind == "dsk_pull" else {"GET"}
    retry = _Retry(
        total=source.retries,
        connect=source.retries,
        read=min(source.retries, 2),
        status=source.retries,
        other=0,
        backoff_factor=source.backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(methods),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", _RefuseHTTP())
    session.headers["User-Agent"] = USER_AGENT
    if source.auth is not None and source.auth.type != "form":
        session.auth = _OriginAuth(_origin(source.url), source.auth.header(environ))
    return session


@dataclass(frozen=True)
class Listed:
    """One file of a source's listing."""

    name: str
    url: str
    sha256: str | None = None
    size: int | None = None


def _check_response(response: requests.Response, what: str) -> None:
    if response.status_code == 200:
        return
    hint = " (check the credentials)" if response.status_code in (401, 403) else ""
    raise FetchError(f"{what}: HTTP {response.status_code} {response.reason or ''}".rstrip() + hint)


def list_files(session: requests.Session, source: Source) -> tuple[list[Listed], list[dict[str, str]]]:
    """GET the source's listing; return its usable entries and the problems of the others.

    Raises:
        FetchError: the listing could not be fetched or is not a JSON array.
        requests.RequestException: network failure after the retries.
    """
    what = f"listing {redact(source.url)}"
    with session.get(
        source.url,
        timeout=source.timeout,
        verify=source.tls_verify,
        stream=True,
        headers={"Accept": "application/json"},
    ) as response:
        _check_response(response, what)
        body = bytearray()
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > LISTING_LIMIT:
                raise FetchError(f"{what}: larger than {LISTING_LIMIT} bytes")
    try:
        doc = json.loads(bytes(body))
    except ValueError as ex:
        raise FetchError(f"{what}: not JSON ({ex})") from ex
    if not isinstance(doc, list):
        raise FetchError(f'{what}: expected a JSON array of {{"name", "url"}}')
    entries: list[Listed] = []
    problems: list[dict[str, str]] = []
    names: set[str] = set()
    for index, item in enumerate(doc):
        try:
            entry = _listed(item, source.url)
        except FetchError as ex:
            name = item.get("name") if isinstance(item, dict) else None
            problems.append({"name": str(name or f"#{index + 1}")[:255], "error": ex.message})
            continue
        if entry.name in names:
            problems.append({"name": entry.name, "error": "listed twice; the first entry is used"})
            continue
        names.add(entry.name)
        entries.append(entry)
    return entries, problems


def _listed(item: Any, base_url: str) -> Listed:
    if not isinstance(item, dict):
        raise FetchError("listing entry is not an object")
    name, url = item.get("name"), item.get("url")
    if not isinstance(name, str) or not safe_name(name):
        raise FetchError("name: a plain file name is required (no folders, no control characters)")
    if not isinstance(url, str) or not url:
        raise FetchError("url: required")
    url = urljoin(base_url, url)
    problem = url_problem(url)
    if problem:
        raise FetchError(f"url: {problem}")
    sha = item.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not SHA256.fullmatch(sha.lower())):
        raise FetchError("sha256: 64 hexadecimal digits")
    size = item.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise FetchError("size: a non-negative integer")
    return Listed(name=name, url=url, sha256=sha.lower() if sha else None, size=size)


def safe_name(name: str) -> bool:
    """A plain file name: no folder part, not ``.``/``..``, no control characters, at most 255 chars."""
    return (
        0 < len(name) <= 255
        and name not in (".", "..")
        and not any(c in name for c in "/\\\x00")
        and all(ord(c) >= 32 and ord(c) != 127 for c in name)
    )


@dataclass(frozen=True)
class Download:
    path: Path
    sha256: str
    size: int


def download(session: requests.Session, source: Source, entry: Listed, folder: Path) -> Download:
    """Stream ``entry`` to a temporary file in ``folder``, checking size and SHA-256 when listed.

    Raises:
        FetchError: HTTP status, too large, or size/SHA-256 different from the listing (file removed).
        requests.RequestException: network failure after the retries.
    """
    what = f"{entry.name} ({redact(entry.url)})"
    got = _save(
        lambda: session.get(entry.url, timeout=source.timeout, verify=source.tls_verify, stream=True),
        source,
        what,
        entry.name,
        folder,
    )
    path, sha, size = got.path, got.sha256, got.size
    try:
        if entry.size is not None and size != entry.size:
            raise FetchError(f"{what}: {size} bytes received, the listing says {entry.size}", field="size")
        if entry.sha256 is not None and sha != entry.sha256:
            raise FetchError(
                f"{what}: SHA-256 {sha} differs from the listing's {entry.sha256}", field="sha256"
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return got


def _save(request: Any, source: Source, what: str, name: str, folder: Path) -> Download:
    """Stream the answer of ``request()`` (a streamed ``requests`` call) to a temporary file in ``folder``.

    Raises:
        FetchError: HTTP status other than 200, or larger than the source's ``max_bytes`` (file removed).
        requests.RequestException: network failure after the retries.
    """
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix
    fd, tmp = tempfile.mkstemp(
        prefix=TEMP_PREFIX, suffix=suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix) else "", dir=folder
    )
    path = Path(tmp)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out, request() as r:
            _check_response(r, what)
            for chunk in r.iter_content(CHUNK):
                size += len(chunk)
                if size > source.max_bytes:
                    raise FetchError(f"{what}: larger than max_bytes {source.max_bytes}")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Download(path, digest.hexdigest(), size)


def describe(ex: BaseException) -> str:
    """A short, secret-free description of a fetch failure."""
    if isinstance(ex, GatewayError):
        return ex.message
    if isinstance(ex, requests.exceptions.Timeout):
        return f"timed out ({type(ex).__name__})"
    if isinstance(ex, requests.exceptions.SSLError):
        return f"TLS error: {_reason(ex)}"
    if isinstance(ex, requests.exceptions.ConnectionError):
        return f"connection failed: {_reason(ex)}"
    if isinstance(ex, requests.RequestException):
        return f"{type(ex).__name__}: {_reason(ex)}"
    return f"{type(ex).__name__}: {ex}"


def _reason(ex: BaseException) -> str:
    # requests wraps urllib3's MaxRetryError, whose text repeats the URL (and its query): keep the cause.
    arg = ex.args[0] if ex.args else ex
    reason = getattr(arg, "reason", None) or arg
    text = str(reason)
    return re.sub(r"<[^>]*>: ", "", text)[:500]


# -- bookkeeping


def _recorded(ctx: Context, source: str) -> dict[str, tuple[str, str]]:
    """name → (SHA-256, ingest status) of what this source delivered before."""
    table = FETCHED
    rows = ctx.session.execute(
        sa.select(table.c.name, table.c.sha256, table.c.status).where(table.c.source == source)
    )
    return {name: (sha, status) for name, sha, status in rows}


def _content_known(ctx: Context, sha256: str) -> bool:
    """Whether a file with this SHA-256 was stored already (fetched from any source, or dropped/posted).

    A fetched file that was rejected does not count: the same content may be accepted once its cause (an
    agent not registered yet, say) is fixed.
    """
    fetched = FETCHED
    settlement_files = sa.table("settlement_files", sa.column("sha256", sa.String))
    for stmt in (
        sa.select(sa.literal(1)).where(fetched.c.sha256 == sha256, fetched.c.status != "rejected"),
        sa.select(sa.literal(1)).where(settlement_files.c.sha256 == sha256),
    ):
        if ctx.session.execute(stmt.limit(1)).first() is not None:
            return True
    return False


@mutation("fetch.file")
def record_fetched(ctx: Context, source: str, name: str, sha256: str, size: int, status: str) -> None:
    """Remember that ``source`` delivered ``name`` (insert, or update when the file was replaced)."""
    table = FETCHED
    values = {"source": source, "name": name, "sha256": sha256, "size": size, "status": status}
    if ctx.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    stmt = stmt.values(**values, fetched_at=ctx.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "name"],
        set_={"sha256": sha256, "size": size, "status": status, "fetched_at": ctx.now()},
    )
    ctx.session.execute(stmt)
    ctx.record("fetch.file", "fetched_file", f"{source}/{name}"[:64], sha256=sha256, size=size, status=status)


# -- the run


@dataclass
class SourceResult:
    name: str
    listed: int = 0
    new: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    kind: str = "listing"
    unchanged: list[str] = field(default_factory=list)
    """``dsk_pull``: days asked for again whose answer was the content already stored for them."""
    empty: list[str] = field(default_factory=list)
    """``dsk_pull``: days the agent had no data for (the header row alone)."""

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "listed": self.listed,
            "new": self.new,
            "files": self.files,
            "failed": self.failed,
            "error": self.error,
        }
        if self.kind == "dsk_pull":
            doc.update(kind=self.kind, unchanged=self.unchanged, empty=self.empty)
        return doc


def configured_sources(ctx: Context) -> list[Source]:
    """The sources of ``GATEWAY_FETCH_SOURCES`` (none when it is not set).

    Raises:
        ConfigError: the file is missing or invalid.
    """
    path = ctx.settings.fetch_sources
    return load_sources(path) if path else []


def fetch_all(
    ctx: Context,
    sources: Iterable[Source] | None = None,
    *,
    only: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
    retry_rejected: bool = False,
) -> dict[str, Any]:
    """Fetch every source (or those named in ``only``); one failing source does not stop the others.

    Args:
        ctx: the service context.
        sources: the sources; default those configured in ``GATEWAY_FETCH_SOURCES``.
        only: source names to fetch.
        environ: where credentials are read; default the process environment.
        retry_rejected: fetch files again whose earlier ingest was rejected (after fixing the cause).

    Returns:
        ``{"sources": [{"name", "listed", "new", "files": [ingest results], "failed": [{"name", "error"}],
        "error"}]}``.

    Raises:
        ConfigError: invalid configuration, or a name in ``only`` that is not configured.
    """
    chosen = list(configured_sources(ctx) if sources is None else sources)
    if only is not None:
        wanted = set(only)
        missing = sorted(wanted - {s.name for s in chosen})
        if missing:
            raise ConfigError(f"no fetch source named {', '.join(missing)}")
        chosen = [s for s in chosen if s.name in wanted]
    folder = ctx.settings.instance_path / "fetch"
    _clean_temp(folder)
    return {
        "sources": [
            (fetch_dsk_source if source.kind == "dsk_pull" else fetch_source)(
                ctx, source, folder, environ, retry_rejected=retry_rejected
            ).as_json()
            for source in chosen
        ]
    }


def fetch_source(
    ctx: Context,
    source: Source,
    folder: Path,
    environ: Mapping[str, str] | None = None,
    *,
    retry_rejected: bool = False,
) -> SourceResult:
    """Fetch the new files of one source. Never raises for a network or server problem: see ``error``."""
    result = SourceResult(source.name)
    try:
        with make_session(source, environ) as session:
            entries, problems = list_files(session, source)
            result.listed = len(entries) + len(problems)
            result.failed.extend(problems)
            before = _recorded(ctx, source.name)
            todo = [e for e in entries if _is_new(ctx, e, before, retry_rejected)]
            ctx.session.commit()  # end the read transaction: downloads may take minutes
            result.new = len(todo)
            for entry in todo:
                _fetch_one(ctx, session, source, entry, folder, result)
    except (FetchError, requests.RequestException) as ex:
        result.error = describe(ex)
        log.warning("fetch %s: %s", source.name, result.error)
    except Exception as ex:  # one broken source (or a bug it triggers) must not stop the others
        log.exception("fetch %s failed", source.name)
        result.error = describe(ex)
    return result


def _is_new(ctx: Context, entry: Listed, before: dict[str, tuple[str, str]], retry_rejected: bool) -> bool:
    known = before.get(entry.name)
    if known is not None:
        sha, status = known
        if entry.sha256 is not None and entry.sha256 != sha:
            return True  # the source replaced the file: fetch the new content
        # Fetched before: a rejected file is fetched again only on request (it would be rejected every run).
        return retry_rejected and status == "rejected"
    # A listing that gives the SHA-256 of content the gateway already has needs no download.
    return not (entry.sha256 is not None and _content_known(ctx, entry.sha256))


def _fetch_one(
    ctx: Context,
    session: requests.Session,
    source: Source,
    entry: Listed,
    folder: Path,
    result: SourceResult,
) -> None:
    try:
        got = download(session, source, entry, folder)
    except (FetchError, requests.RequestException, OSError) as ex:
        result.failed.append({"name": entry.name, "error": describe(ex)})
        log.warning("fetch %s: %s: %s", source.name, entry.name, describe(ex))
        return
    try:
        doc = ingest_document(
            ctx,
            got.path,
            adapter=source.adapter,
            agent_code=source.agent,
            source="fetch",
            original_name=entry.name,
        )
        # Recorded after the ingest committed: a crash in between only means a re-download next time,
        # which ingest answers with duplicate_file.
        record_fetched(ctx, source.name, entry.name, got.sha256, got.size, str(doc["status"]))
    finally:
        got.path.unlink(missing_ok=True)
    result.files.append(doc)
    log.info("fetch %s: %s %s", source.name, entry.name, doc["status"])


# -- DSK pull (収納データPOST方式取得)


def dsk_day_name(day: datetime.date) -> str:
    """The name a pulled day is ingested and remembered under: ``dsk-YYYYMMDD.csv``."""
    return f"dsk-{day:%Y%m%d}.csv"


def dsk_days(source: Source, today: datetime.date) -> list[datetime.date]:
    """The complete Japan days of the window, oldest first (today is not complete yet: it is pulled
    tomorrow)."""
    return [today - datetime.timedelta(days=n) for n in range(source.days_back, 0, -1)]


def dsk_form(source: Source, day: datetime.date, environ: Mapping[str, str]) -> dict[str, str]:
    """The POST form asking for ``day``: ``FROM_DATE``/``TO_DATE`` as ``YYYYMMDD`` (``TO_DATE`` the next day
    unless ``range_end`` is ``same_day``), with ``USER_ID``/``PW`` for ``form`` credentials.

    Raises:
        FetchError: a credential variable is not set.
    """
    end = day if source.range_end == "same_day" else day + datetime.timedelta(days=1)
    form = source.auth.form(environ) if source.auth is not None and source.auth.type == "form" else {}
    return {**form, "FROM_DATE": f"{day:%Y%m%d}", "TO_DATE": f"{end:%Y%m%d}"}


def _dsk_error(path: Path) -> str | None:
    """DSK's error answer (``error:`` then a message, cp932), as one line; None for anything else."""
    with open(path, "rb") as f:
        head = f.read(2048)
    if not head.lstrip(b"\xef\xbb\xbf").startswith(DSK_ERROR_PREFIX):
        return None
    text = head.decode("cp932", errors="replace")
    return " ".join(line.strip() for line in text.splitlines()[1:] if line.strip())[:300] or "error"


def _dsk_empty(path: Path, size: int) -> bool:
    """The header row alone: the agent had no data for the day."""
    if not 0 < size <= DSK_EMPTY_LIMIT:
        return False
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return len(lines) == 1 and dsk_csv.Adapter().identify(path)


def fetch_dsk_source(
    ctx: Context,
    source: Source,
    folder: Path,
    environ: Mapping[str, str] | None = None,
    *,
    retry_rejected: bool = False,
) -> SourceResult:
    """Pull the days of a ``dsk_pull`` source not fetched yet (and the latest ``repull_days`` again).

    A day is asked for unless it was fetched before (accepted, duplicate_file or empty) and is older than
    ``repull_days``; a rejected day only with ``retry_rejected``. An answer with the content already
    remembered for that day is dropped (``unchanged``); the header row alone is remembered as ``empty`` and
    not ingested; anything else is ingested as ``dsk-YYYYMMDD.csv`` (adapter ``dsk_csv``, the source's
    agent), records already stored through an overlapping day counting as duplicates. A day the server
    refuses (HTTP status, DSK's ``error:`` answer) is reported in ``failed`` and asked for at the next run;
    the network failing stops the source (``error``). Never raises for a network or server problem.
    """
    environ = os.environ if environ is None else environ
    result = SourceResult(source.name, kind="dsk_pull")
    try:
        days = dsk_days(source, japan_date(ctx.now()))
        before = _recorded(ctx, source.name)
        ctx.session.commit()  # end the read transaction: requests may take minutes
        todo = [d for d in days if _dsk_wanted(source, d, days[-1], before, retry_rejected)]
        result.listed, result.new = len(days), len(todo)
        with make_session(source, environ) as session:
            for day in todo:
                _fetch_dsk_day(
                    ctx, session, source, day, before.get(dsk_day_name(day)), folder, environ, result
                )
    except (FetchError, requests.RequestException) as ex:
        result.error = describe(ex)
        log.warning("fetch %s: %s", source.name, result.error)
    except Exception as ex:  # one broken source (or a bug it triggers) must not stop the others
        log.exception("fetch %s failed", source.name)
        result.error = describe(ex)
    return result


def _dsk_wanted(
    source: Source,
    day: datetime.date,
    latest: datetime.date,
    before: dict[str, tuple[str, str]],
    retry_rejected: bool,
) -> bool:
    known = before.get(dsk_day_name(day))
    if known is None:
        return True
    if known[1] == "rejected":
        return retry_rejected
    return (latest - day).days < source.repull_days


def _fetch_dsk_day(
    ctx: Context,
    session: requests.Session,
    source: Source,
    day: datetime.date,
    known: tuple[str, str] | None,
    folder: Path,
    environ: Mapping[str, str],
    result: SourceResult,
) -> None:
    name = dsk_day_name(day)
    what = f"{name} ({redact(source.url)})"
    form = dsk_form(source, day, environ)
    try:
        got = _save(
            # No redirects: the form may carry the credentials, and a 307 would send them on elsewhere.
            lambda: session.post(
                source.url,
                data=form,
                timeout=source.timeout,
                verify=source.tls_verify,
                stream=True,
                allow_redirects=False,
            ),
            source,
            what,
            name,
            folder,
        )
    except FetchError as ex:
        result.failed.append({"name": name, "error": describe(ex)})
        log.warning("fetch %s: %s", source.name, describe(ex))
        return
    try:
        problem = _dsk_error(got.path) if got.size else "an empty answer (not even the header row)"
        if problem is not None:
            result.failed.append({"name": name, "error": f"{what}: the agent answered: {problem}"})
            log.warning("fetch %s: %s: %s", source.name, name, problem)
            return
        if known is not None and known[0] == got.sha256 and known[1] != "rejected":
            result.unchanged.append(name)
            return
        if _dsk_empty(got.path, got.size):
            record_fetched(ctx, source.name, name, got.sha256, got.size, "empty")
            result.empty.append(name)
            return
        doc = ingest_document(
            ctx,
            got.path,
            adapter=DSK_ADAPTER,
            agent_code=source.agent,
            source="fetch",
            original_name=name,
        )
        record_fetched(ctx, source.name, name, got.sha256, got.size, str(doc["status"]))
    finally:
        got.path.unlink(missing_ok=True)
    result.files.append(doc)
    log.info("fetch %s: %s %s", source.name, name, doc["status"])


def _clean_temp(folder: Path, older_than: float = 86_400) -> None:
    """Remove temporary downloads a crashed run left behind."""
    if not folder.is_dir():
        return
    limit = time.time() - older_than
    for path in folder.glob(TEMP_PREFIX + "*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue


def summarize(result: dict[str, Any]) -> dict[str, int]:
    """Counts of a :func:`fetch_all` result, for the job run record."""
    counts = dict.fromkeys(
        ("sources", "sources_failed", "listed", "new", "accepted", "duplicates", "rejected", "failed"), 0
    )
    status_key = {"accepted": "accepted", "duplicate_file": "duplicates", "rejected": "rejected"}
    for src in result["sources"]:
        counts["sources"] += 1
        counts["sources_failed"] += 1 if src["error"] else 0
        counts["listed"] += src["listed"]
        counts["new"] += src["new"]
        counts["failed"] += len(src["failed"])
        for doc in src["files"]:
            counts[status_key[doc["status"]]] += 1
    return counts
