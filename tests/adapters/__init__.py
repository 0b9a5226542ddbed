"""Tests of the settlement-file adapters (golden files, fuzzing, writers, registry)."""
