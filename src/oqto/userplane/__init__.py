"""The user plane: sessions, their processes and files, for one Linux account.

`UserPlane` is the contract; `LocalUserPlane` runs it in the calling process. The per-user
runner serves the same core over a Unix socket.
"""
