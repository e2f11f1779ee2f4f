"""Open feeds for the public and partners: GeoJSON, CAP 1.2, iCalendar, and the change log
that webhooks and ``since=`` deltas are built from. Nothing here carries personal data."""
