"""Domain errors of the service centre, mapped to HTTP status codes once in ``web/errors.py``."""
