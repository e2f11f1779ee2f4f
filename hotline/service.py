"""Reads and writes of the service centre (keyword-only ``session=``, the caller commits)."""
