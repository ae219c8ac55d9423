"""`python -m oqto.db.upgrade`: the migrations, run apart from a long-running server
(`oqto.db.engine.migrate(in_child=True)`), for the database whose URL is on stdin. A
failure is one line on stderr and exit status 1; the parent names the database."""

from __future__ import annotations

import sys

from oqto.db.engine import make_engine, migrate


def main() -> int:
    engine = make_engine(sys.stdin.read().strip())
    try:
        migrate(engine)
    except Exception as exc:  # any failure is reported by the parent, with the database named
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
