"""Oqto: multi-user AI coding-agent workspaces."""
