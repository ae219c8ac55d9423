"""Single-user mode has exactly one platform user.

Every session runs as the server's own Linux account there (no runner, no per-user
accounts), so a second platform user would run as that account too: with the server's
files, its credentials, and root's powers if root started it. Every way of adding a user
(admin API, invites, registration, `oqtoctl user create`, `oqtoctl invite create`)
refuses in this mode, with this explanation.
"""

from __future__ import annotations

from oqto.control.errors import ApiError
from oqto.protocol.errors import ErrorCode


def explanation(what: str) -> str:
    return (
        f"{what} is not possible in single-user mode ([local] single_user / --single-user): "
        "its one platform user's sessions run as the server's own Linux account, and so "
        "would any other user's. Run Oqto in multi-user mode (each user gets their own "
        "Linux account) to have more users."
    )


def refusal(what: str) -> ApiError:
    return ApiError(ErrorCode.SINGLE_USER, explanation(what))
