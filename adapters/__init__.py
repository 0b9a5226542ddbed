"""Settlement-file adapters: agents' payment files and banks' files in, plain records out.

Pure code: no web framework, no database, no gateway imports. Each format is one module exposing
``Adapter`` (and a ``write`` function that generates files for tests, demos and benchmarks):

* ``fixed120`` — the gateway's reference 120-byte settlement format
* ``dsk_csv`` — the agent CSV daily file
* ``zengin_transfer`` — the bank's transfer notice (振込入金通知)
* ``zengin_statement`` — the bank's account statement (入出金取引明細)

and ``agent_post``, an agent's posted JSON batch: not a file, so it has no ``Adapter`` and is not detected,
but it turns the body into the same payment records, with the same barcode checks.

Adapters are plugged in like django-payments variants: a list of ``(dotted path, kwargs)`` built lazily by
:func:`load_adapters`; :func:`detect` picks the one adapter that claims a file (beangulp rules: none or two
is an error).

>>> sorted(ADAPTERS)
['dsk_csv', 'fixed120', 'zengin_statement', 'zengin_transfer']
>>> get_adapter("fixed120")
<adapters.fixed120.Adapter 'fixed120'>
>>> get_adapter("nope")
Traceback (most recent call last):
    ...
adapters.errors.UnknownAdapter: unknown adapter 'nope'; available: dsk_csv, fixed120, ...
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters import dsk_csv
from adapters import fixed120
from adapters import zengin_statement
from adapters import zengin_transfer
from adapters.base import Adapter
from adapters.errors import AmbiguousFileFormat
from adapters.errors import UnknownAdapter
from adapters.errors import UnknownFileFormat

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (fixed120.Adapter, dsk_csv.Adapter, zengin_transfer.Adapter, zengin_statement.Adapter)
}
"""The built-in adapters by name (the name is stored with every ingested file)."""


def get_adapter(name: str) -> Adapter:
    """A default-configured instance of the built-in adapter ``name``.

    Raises:
        UnknownAdapter: no such adapter (an ``UnknownFileFormat``); it lists the available names.
    """
    try:
        cls = ADAPTERS[name]
    except KeyError:
        raise UnknownAdapter(name, sorted(ADAPTERS)) from None
    return cls()


def _import(path: str) -> type[Adapter]:
    """``package.module.Class``, ``package.module`` (its ``Adapter``) or a built-in name → the class."""
    if "." not in path:
        if path in ADAPTERS:
            return ADAPTERS[path]
        raise UnknownAdapter(path, sorted(ADAPTERS))
    target: Any
    try:
        target = getattr(importlib.import_module(path), "Adapter", None)
    except ModuleNotFoundError as ex:
        if ex.name != path:  # a module that exists but fails to import: report that, not a guess
            raise ImportError(f"adapter {path!r} cannot be imported: {ex}") from ex
        module_name, _, attribute = path.rpartition(".")
        try:
            target = getattr(importlib.import_module(module_name), attribute, None)
        except ModuleNotFoundError as ex2:
            raise ImportError(f"adapter {path!r} cannot be imported: {ex2}") from ex2
    if not (isinstance(target, type) and issubclass(target, Adapter)):
        raise ImportError(f"adapter {path!r} is not an adapters.base.Adapter subclass")
    return target


def load_adapters(spec: Iterable[tuple[str, dict[str, Any]]]) -> list[Adapter]:
    """Build adapter instances from ``(dotted path, kwargs)`` pairs, importing each module only now.

    >>> [a.name for a in load_adapters([("adapters.fixed120.Adapter", {}),
    ...                                 ("adapters.dsk_csv", {"encoding": "cp932"})])]
    ['fixed120', 'dsk_csv']

    Raises:
        ImportError: a path that does not name an ``Adapter`` subclass.
        UnknownAdapter: a bare name that is not a built-in.
        TypeError: kwargs the adapter does not take.
    """
    return [_import(path)(**dict(kwargs)) for path, kwargs in spec]


def detect(path: Path, adapters: Iterable[Adapter] | None = None) -> Adapter:
    """The one adapter that identifies ``path`` (from ``adapters``, default: all built-ins).

    Raises:
        UnknownFileFormat: no adapter claims the file.
        AmbiguousFileFormat: more than one does (``candidates`` names them).
    """
    pool = list(adapters) if adapters is not None else [cls() for cls in ADAPTERS.values()]
    candidates = [adapter for adapter in pool if adapter.identify(Path(path))]
    if not candidates:
        names = ", ".join(adapter.name for adapter in pool)
        raise UnknownFileFormat(f"no adapter recognises this file (tried {names})", path=path)
    if len(candidates) > 1:
        raise AmbiguousFileFormat([adapter.name for adapter in candidates], path=path)
    return candidates[0]


__all__ = ["ADAPTERS", "Adapter", "detect", "get_adapter", "load_adapters"]
