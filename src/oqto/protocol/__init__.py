"""Types shared by the control plane and the user plane (in process or behind a runner)."""
