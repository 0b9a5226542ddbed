"""Slip PDFs: one A4 納付書 per slip and batches for window envelopes (reportlab; no Flask, no database)."""
