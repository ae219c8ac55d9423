"""Print the control plane's OpenAPI document as JSON (sorted keys, so the same code always
prints the same bytes): `python -m oqto.control.openapi_dump`.

The web UI's client types are generated from it (`npm run gen:api` in web/). The app is
built as `oqto serve` builds it, but over a throw-away data directory and never served:
no root, no opencode, no network."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from oqto.config.model import LocalSection, OqtoConfig, ServerSection
from oqto.control.app import build_context, create_app


def openapi_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="oqto-openapi-") as tmp:
        config = OqtoConfig(
            server=ServerSection(data_dir=Path(tmp, "data")),
            local=LocalSection(socket_dir=Path(tmp, "run")),
        )
        ctx, backend = build_context(config, single_user=True)
        return create_app(ctx, backend).openapi()


def main() -> None:
    json.dump(openapi_document(), sys.stdout, sort_keys=True, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
