"""The scheduled jobs: each is a thin wrapper around a service (see gateway.jobs)."""

from __future__ import annotations
