"""Provisioning: Linux accounts, homes, runners and platform users."""
