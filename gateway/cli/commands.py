"""Import every command module so each registers its group on ``main``."""

from __future__ import annotations

from gateway.cli import agents  # noqa: F401
from gateway.cli import claims  # noqa: F401
from gateway.cli import core  # noqa: F401
from gateway.cli import exceptions  # noqa: F401
from gateway.cli import fetch  # noqa: F401
from gateway.cli import payments  # noqa: F401
from gateway.cli import reconcile  # noqa: F401
from gateway.cli import reports  # noqa: F401
from gateway.cli import settlements  # noqa: F401
from gateway.cli import slips  # noqa: F401
