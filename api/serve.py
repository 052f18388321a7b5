"""Serve the API with the settings' worker count: `python -m api.serve [--host H] [--port P]`.

Several workers need a shared rate-limit store (PEERLEND_RATE_LIMIT_STORAGE=redis://...): the settings
refuse in-memory counters with more than one worker in production, since each would count on its own."""

from __future__ import annotations

import argparse

import uvicorn

from api.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = get_settings()  # fails here, before any worker starts, on a bad combination
    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=settings.workers,
        log_level="warning",
        proxy_headers=False,  # our own middleware decides which proxies to believe (PEERLEND_TRUSTED_PROXIES)
    )


if __name__ == "__main__":
    main()
