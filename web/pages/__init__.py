"""web/pages package."""
