"""Domain errors of dispatch; ``web/errors.py`` maps them to status codes.

Lifecycle steps that are not allowed raise ``outages.exceptions.InvalidTransition`` (409 with
the allowed next states), shared with the outage lifecycle so clients handle both alike.
"""

from __future__ import annotations

from geo.exceptions import NotFound, StormdeskError
from outages.exceptions import InvalidTransition


class WorkOrderNotFound(NotFound):
    """No work order with that id."""


class CrewNotFound(NotFound):
    """No crew with that id."""


class StaleVersion(StormdeskError):
    """The client saw an older version of the order (or of the dispatch state): reload (409)."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class CloseRefused(InvalidTransition):
    """Closing before the 95598 loop is complete; ``missing`` names the steps still due."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message, allowed=[])
        self.missing = missing
