"""HTTP routes of the control plane, all under `/api`."""
