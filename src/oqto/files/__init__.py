"""Workspace file server: confined file operations on one root, as a library and an HTTP app."""
