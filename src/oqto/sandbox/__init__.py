"""Confinement of every session process: the policy (admin file, tighten-only overlays),
bubblewrap's command line, the in-sandbox init, the egress allow-list proxy and limits."""
