"""The local two-site stack behind ``stormdesk cluster`` (see ``web/cli_cluster.py``)."""
