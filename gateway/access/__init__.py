"""Who may do what: staff users, their sessions and sign-in throttle, API clients and their
signatures, and the collection agents the office has contracted (codes, channels, fees).

The lowest feature layer: it imports no other feature package.
"""
