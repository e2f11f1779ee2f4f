"""Domain errors of the service centre, mapped to HTTP status codes once in ``web/errors.py``."""

from __future__ import annotations

from geo.exceptions import Forbidden, InvalidInput, NotFound, StormdeskError


class UnknownDepartment(InvalidInput):
    """A department code that names no department (422)."""


class NoRoute(InvalidInput):
    """No row of the routing table takes a ticket of this type and region (422)."""


class TicketTypeNotAllowed(Forbidden):
    """The user's role may not file this type of ticket (403)."""


class TicketNotFound(NotFound):
    """No such ticket, or one the user may not see (404: a hidden complaint stays hidden)."""


class TicketStateConflict(StormdeskError):
    """The step does not fit the ticket's status, such as a reply on a closed ticket (409).

    ``allowed`` lists the statuses in which the step is possible.
    """

    def __init__(self, message: str, *, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class ArticleNotFound(NotFound):
    """No such knowledge-base article or version, or one the user may not read (404)."""


class CalendarFileError(StormdeskError):
    """The site calendar file cannot be read; the message names the file and the entry (503)."""


class CallNotFound(NotFound):
    """No such call (404)."""


class CallStateConflict(TicketStateConflict):
    """A call step that does not fit the call's status, such as answer after hang-up (409);
    ``allowed`` lists the actions the call still allows."""
