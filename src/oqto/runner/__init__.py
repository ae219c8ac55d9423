"""`oqto-runner`: one Linux account's user plane behind a Unix socket.

The control plane reaches it at `[local] runner_socket_pattern` (default
`/run/user/{uid}/oqto-runner.sock`, i.e. `$XDG_RUNTIME_DIR/oqto-runner.sock`).
"""
