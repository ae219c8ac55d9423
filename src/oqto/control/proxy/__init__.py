"""Streaming reverse proxy from the control plane to a session's services."""
