"""Domain errors of dispatch; ``web/errors.py`` maps them to status codes.

Lifecycle steps that are not allowed raise ``outages.exceptions.InvalidTransition`` (409 with
the allowed next states), shared with the outage lifecycle so clients handle both alike.
"""

from __future__ import annotations

from geo.exceptions import InvalidInput, NotFound, StormdeskError
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


class OpenMakeSafeTasks(InvalidTransition):
    """Restoring while make-safe tasks are open (409): confirm them made safe or override."""

    def __init__(self, message: str, open_task_ids: list[int]) -> None:
        super().__init__(message, allowed=[])
        self.open_task_ids = open_task_ids


class TaskNotFound(NotFound):
    """No such make-safe task on that work order."""


class PlanNotFound(NotFound):
    """No dispatch plan with that id."""


class PlanConflict(StaleVersion):
    """The plan was made from an older dispatch state (or is no longer a proposal): 409.

    The plan is marked as a conflict before this is raised, and that mark is kept.
    """

    keep_changes = True


class NothingToPlan(InvalidInput):
    """No crew is on shift, so there is nobody to plan for."""
