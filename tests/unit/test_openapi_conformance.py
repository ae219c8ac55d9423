"""schemathesis fuzzes the API against its own OpenAPI document, in process: a throwaway
single-user instance (SQLite in a temporary directory), signed in with a fresh API token
for every request (so a fuzzed logout or token deletion revokes only its own). Every check
schemathesis runs by default is on (no 5xx; only documented statuses, content types,
headers and bodies; schema-valid requests not refused except for documented auth or state
reasons; schema-invalid ones refused; auth not ignored), plus one of ours: an error's code
is one the document lists under its status. Each operation alone, then sequences of them
along the links schemathesis infers (a created session's id into its other routes).

Bounded: `MAX_EXAMPLES` per operation, `SCENARIOS` sequences of at most `STEPS` calls,
`DEADLINE_MS` per example; generation is deterministic and hypothesis' database is off, so
every run sends the same requests and writes nothing.

Exclusions and substitutions, each with its reason:

- the proxy routes (`tag=proxy`) are not fuzzed: they reach a session's opencode and file
  server, which a unit test does not run; their declared refusals are checked in
  test_api_contract;
- of `GET /api/events` only the first event is read (`max-stream-events`): the stream
  never ends on its own;
- sessions run on a fake user plane (`FakeUserPlane`: starts at once, no processes), so
  creating, stopping and deleting them is fast and leaves nothing behind;
- single-user mode answers registration, user creation and invite creation with 409
  `single_user`, so their multi-user paths (the usermgr helper) are not reached here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import Phase, settings
from schemathesis import Case, CheckContext, Response
from sqlalchemy import delete
from tests.unit.fake_userplanes import FakeUserPlane

from oqto.config import load_config
from oqto.control import app as control_app
from oqto.control.api.contract import CODES_KEY
from oqto.control.app import build_context, create_app
from oqto.control.auth.tokens import issue_token
from oqto.control.context import ControlContext
from oqto.control.openapi_dump import openapi_document
from oqto.db.models import AuthToken, Invite, Role, Session, TokenKind, User

MAX_EXAMPLES = 25
DEADLINE_MS = 10_000
# The stateful run: this many scenarios of at most this many calls each.
SCENARIOS = 30
STEPS = 8

CONFIG = schemathesis.Config.from_str(
    """
[generation]
database = "none"
deterministic = true

[[operations]]
include-path = "/api/events"
max-stream-events = 1
"""
)


@dataclass(frozen=True)
class Instance:
    app: FastAPI
    ctx: ControlContext
    plane: FakeUserPlane


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = tmp / "c.toml"
    # Low caps, so that a few hundred requests reach the refusals behind them too.
    config.write_text(
        f'[server]\ndata_dir = "{tmp}/data"\n[local]\nsocket_dir = "{tmp}/run"\n'
        "[sessions]\nmax_running_per_user = 2\n[auth]\nlogin_max_failures = 2\n"
    )
    plane = FakeUserPlane()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(control_app, "local_userplane", lambda *_a, **_k: plane)
        ctx, backend = build_context(load_config(config, environ={}).config, single_user=True)
    with ctx.db.begin() as db:
        db.add(User(username="boss", password_hash="unused", role=Role.ADMIN))
    app = create_app(ctx, backend)
    yield Instance(app, ctx, plane)
    # The ASGI client schemathesis drives started the app's lifespan: end it.
    schemathesis.python.asgi.shutdown_lifespans()


def forget_everything(instance: Instance) -> None:
    """Back to no sessions, invites or tokens."""
    with instance.ctx.db.begin() as db:
        for model in (Session, Invite, AuthToken):
            db.execute(delete(model))
    instance.plane.running.clear()


def fresh_token(ctx: ControlContext) -> str:
    with ctx.db.begin() as db:
        user = db.query(User).filter_by(username="boss").one()
        token, _row = issue_token(db, user, TokenKind.API, None, name="fuzz")
    return token


def error_code_is_declared(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error's `error` is one of the codes the document lists under its status."""
    if response.status_code < 400:
        return None
    declared = case.operation.definition.raw["responses"].get(str(response.status_code))
    if declared is None:
        return None  # an undeclared status: status_code_conformance says so
    code = response.json()["error"]
    if code not in declared[CODES_KEY]:
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} {code!r}; the document "
            f"lists {declared[CODES_KEY]}"
        )
    return None


# The document of an app built as `oqto serve` builds it; the fixture's instance answers.
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG).exclude(tag="proxy")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=DEADLINE_MS)
def test_the_api_answers_as_its_document_says(case: Case, instance: Instance) -> None:
    # The document was read at collection time; the instance exists from the fixture on.
    case.operation.app = instance.app
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fresh_token(instance.ctx)}"},
        additional_checks=[error_code_is_declared],
    )


def test_sequences_of_calls_answer_as_the_document_says(instance: Instance) -> None:
    """schemathesis links the operations (a created session's id into its get, stop, resume
    and delete; the signed-in user's id into the admin routes) and walks them."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario from the same state: hypothesis replays choices and requires
            # them to lead where they led before (a full session cap would not).
            forget_everything(instance)

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            case.operation.app = instance.app
            return {"headers": {"Authorization": f"Bearer {fresh_token(instance.ctx)}"}}

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            super().validate_response(
                response, case, additional_checks=[error_code_is_declared], **kwargs
            )

    Workflow.run(
        # No shrinking: a replay meets the server in another state (a full session cap, say),
        # so a shrunk case is not the one that failed; the failing one is reported as it ran.
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=DEADLINE_MS,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
        )
    )
