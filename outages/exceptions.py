"""Domain errors of intake; ``web/errors.py`` maps them to status codes."""

from geo.exceptions import InvalidInput, NotFound, StormdeskError


class AddressNotFound(InvalidInput):
    """An address that matched no premise confidently; carries suggestions for the caller."""

    def __init__(self, message: str, suggestions: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class InvalidTransition(StormdeskError):
    """A lifecycle step not allowed from the current state (409 with the allowed steps)."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class OutageNotFound(NotFound):
    """No outage with that id."""


class ReportNotFound(NotFound):
    """No report with that id."""


class DeviceNotFound(NotFound):
    """No device with that code."""
