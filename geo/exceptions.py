"""Domain errors of the territory layer; ``web/errors.py`` maps each to an HTTP status."""


class StormdeskError(Exception):
    """Base of every domain error: its message is safe to show to the user.

    ``keep_changes``: the request's unit of work commits what was written before the error
    (for errors that record something, such as a plan marked stale) instead of rolling back.
    """

    keep_changes: bool = False


class NotFound(StormdeskError):
    """The object asked for does not exist."""


class OutsideTerritory(StormdeskError):
    """A point lies outside every service area of the utility."""


class InvalidInput(StormdeskError):
    """Input that passed the schema but makes no sense for the domain."""


class ImportFailed(StormdeskError):
    """A file import was refused as a whole; the message names the row and column."""


class ClusterError(StormdeskError):
    """The embedded PostgreSQL cluster could not be created, started or stopped."""


class AuthError(StormdeskError):
    """Bad credentials or a missing/expired token."""


class Forbidden(StormdeskError):
    """The user is known but their role does not allow the action."""


class DatabaseUnavailable(StormdeskError):
    """The database cannot be reached or refuses connections right now: retry (503)."""


class TooManyAttempts(StormdeskError):
    """Too many failed logins for a username or from an address: wait (429, Retry-After)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class LoginFailed(AuthError):
    """Wrong username or password; the failure is counted and audited, so it commits."""

    keep_changes = True
