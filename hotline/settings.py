"""Settings of the 95598 service centre (hotline/); its knobs arrive with its features."""

from __future__ import annotations

from dispatch.settings import DispatchSettings


class HotlineSettings(DispatchSettings):
    """The centre's knobs on top of dispatch's: ticket clocks, queues, staffing targets."""
