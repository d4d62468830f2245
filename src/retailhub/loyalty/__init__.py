"""The loyalty engine, compatible with the Ordering Stack Loyalty API (``/loyalty-api/api``)."""
