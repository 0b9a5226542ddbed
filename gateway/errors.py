"""The gateway's error family.

Services raise these; the API turns them into ``{"error": {"code", "message", "details"}}`` with the class's
HTTP status and the CLI prints them on stderr and exits 65 (rejected input). Errors of the pure packages
(``barcodes.exceptions``, ``adapters.errors``) are mapped the same way at the edges.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base class. ``details`` is a JSON-able mapping; ``file``/``line``/``field`` locate bad input;
    ``key``/``params`` name the catalogue message a staff page shows instead of the English ``message``."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        code: str | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.file, self.line, self.field = file, line, field
        #: a message key of ``gateway.catalogue.MESSAGES`` and its parameters: how a page says it in Japanese
        self.key, self.params = key, dict(params or {})
        if code:
            self.code = code
        for name, value in (("file", file), ("line", line), ("field", field)):
            if value is not None:
                self.details.setdefault(name, value)

    def located(self) -> str:
        """The message prefixed with ``file:line: field:`` where known (for stderr)."""
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        prefix = f"{where}: " if where else ""
        if self.field and f"field {self.field}" not in self.message:
            prefix += f"field {self.field}: "
        return prefix + self.message


class ConfigError(GatewayError):
    """The configuration is unusable; the gateway refuses to start."""

    status = 500
    code = "config_error"


class InvalidInput(GatewayError):
    """Input data is rejected (bad CSV row, amount above cap, unknown legal basis …)."""

    status = 422
    code = "invalid_input"


class NotFound(GatewayError):
    status = 404
    code = "not_found"


class Conflict(GatewayError):
    """The request clashes with the current state (a live slip covers the balance, a reused record id …)."""

    status = 409
    code = "conflict"


class Unauthorized(GatewayError):
    status = 401
    code = "unauthorized"


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"
