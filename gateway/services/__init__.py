"""Services: the only code that combines the database with the domain rules.

Every function takes a :class:`~gateway.context.Context` first. Functions that change data are decorated
with :func:`~gateway.context.mutation` (one audited transaction); the API, the CLI and the scheduler are
thin wrappers around them.
"""
