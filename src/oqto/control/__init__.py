"""The control plane: auth, users, sessions and the proxy to session services."""
