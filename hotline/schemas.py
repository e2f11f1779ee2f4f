"""Pydantic shapes of the service centre's API; they arrive with the desk."""
