"""Reconciliation rules: pure functions and the fixed vocabulary, no database.

The set-based engine lives in ``gateway.services.reconcile``; what it decides per record — which fiscal
year money belongs to, whether a payment is late, what an agent owes net of fees — is decided here, so the
rules can be read and tested on their own.
"""
