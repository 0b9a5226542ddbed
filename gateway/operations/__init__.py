"""What runs the others: the scheduled job definitions and the synthetic demo.

The top feature layer; only the interfaces (CLI, API, pages) sit above it.
"""
