"""Reconciliation: settlement records → payments on claims, exceptions, remittances.

The engine is here, on SQLAlchemy Core and a connection it is given; it never imports Flask or ``gateway``
(``gateway.money.reconcile`` is its audited wrapper). Where to look:

* :mod:`~reconciliation.vocabulary` — the twelve exception kinds, the resolutions, the kinds' Japanese names;
* :mod:`~reconciliation.rules` — every rule of spec/settlement-formats.md's reconciliation: fiscal year,
  lateness, what an agent owes, and the declaration of every exception kind (its SQL condition, detail and
  key, its Python predicate, the step that raises it);
* :mod:`~reconciliation.engine` — the steps of a run, in order (its docstring explains them), over
  :mod:`~reconciliation.matching` (with :mod:`~reconciliation.pairing`), :mod:`~reconciliation.checks` and
  :mod:`~reconciliation.threeway`; :mod:`~reconciliation.sql` holds the SQL helpers and scratch tables.
"""
