"""Money entries and statuses: balances, the accounting ledger, and the audited wrapper of the
reconciliation engine (:mod:`reconciliation`), which sets payment, claim and remittance statuses.

Inside: ``reconcile`` above ``ledger`` above ``balances``. Of the features it may use only
:mod:`gateway.access`.
"""
