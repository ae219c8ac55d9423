"""`oqtoctl`: the administrator's command line for a systemd (or container) deployment."""
