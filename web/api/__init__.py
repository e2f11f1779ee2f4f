"""web/api package."""
