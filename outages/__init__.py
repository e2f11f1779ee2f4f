"""outages package."""
