"""What a running process holds: settings, keys, and a factory for service contexts.

The web app, the command line and the scheduler each build one :class:`Runtime` and get a fresh
:class:`~gateway.context.Context` (own session) per request, command or job run.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from gateway import migrate
from gateway.config import Settings
from gateway.context import Actor
from gateway.context import Context
from gateway.crypto import Keyring
from gateway.db import new_session
from gateway.errors import ConfigError
from gateway.models.base import utcnow


def keyring_for(settings: Settings) -> Keyring:
    """The data key in full mode; the exported public keyring in public mode."""
    if settings.mode == "public":
        if not settings.public_keyring:
            raise ConfigError("GATEWAY_MODE=public needs GATEWAY_PUBLIC_KEYRING (gateway keys public)")
        return Keyring.from_public(settings.public_keyring)
    return Keyring.from_data_key(settings.data_key)


@dataclass
class Runtime:
    settings: Settings
    keys: Keyring
    clock: Callable[[], datetime.datetime] = field(default=utcnow)
    """Where contexts read the time; tests replace it to pin the business date."""

    @classmethod
    def load(cls, settings: Settings, *, check: bool = True) -> Runtime:
        """Build the runtime; with ``check``, refuse an out-of-date schema or a different data key."""
        runtime = cls(settings, keyring_for(settings))
        if check:
            runtime.check()
        return runtime

    def check(self) -> None:
        migrate.check_schema(self.settings.database_url)
        migrate.check_fingerprint(self.settings.database_url, self.keys.fingerprint)

    @contextlib.contextmanager
    def context(self, actor: Actor) -> Iterator[Context]:
        """A service context with its own session, closed (and any open transaction rolled back) on exit."""
        session = new_session(self.settings.database_url)
        try:
            yield Context(
                session=session, actor=actor, settings=self.settings, keys=self.keys, clock=self.clock
            )
        finally:
            session.close()
