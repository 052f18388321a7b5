"""The request's one transaction, owned by the route.

An endpoint asks for `session: SessionDep` (a write transaction) or `session: ReadSessionDep`. The
dependency only hands over a slot; `TransactionalRoute` opens the real transaction around the endpoint
call, in the endpoint's own worker thread, and commits, rolls back and closes it before that call returns.
FastAPI's generator dependencies cannot promise that: when a client disconnects, the request task is
cancelled and the generator's exit code may never run, which left a connection (and SQLite's write lock)
open until the whole service wedged. A thread cannot be cancelled halfway, so here nothing leaks.

The endpoint's own writes therefore commit before FastAPI renders the response, and an error response is
never sent for work that was in fact committed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api.kit.db import Database


class Deferred(Protocol):
    """A dependency value finished inside the request's transaction, on its connection: the session check
    behind a bearer token is one query there, instead of a connection and a thread hop of its own."""

    def resolve(self, connection: Connection) -> Any: ...


@dataclass(frozen=True, slots=True)
class SessionSlot:
    database: Database
    write: bool


async def _write_slot(request: Request) -> SessionSlot:
    return SessionSlot(request.app.state.database, True)


async def _read_slot(request: Request) -> SessionSlot:
    return SessionSlot(request.app.state.database, False)


SessionDep = Annotated[Session, Depends(_write_slot)]
ReadSessionDep = Annotated[Session, Depends(_read_slot)]


def with_transaction(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "_owns_transaction", False):
        return endpoint  # async endpoints do not touch the database; a wrapped one is wrapped once

    @functools.wraps(endpoint)
    def run(**kwargs: Any) -> Any:
        slots = [name for name, value in kwargs.items() if isinstance(value, SessionSlot)]
        deferred = [name for name, value in kwargs.items() if hasattr(value, "resolve")]
        if not slots and not deferred:
            return endpoint(**kwargs)
        with ExitStack() as stack:
            connection: Connection | None = None
            for name in slots:
                slot: SessionSlot = kwargs[name]
                session = stack.enter_context(slot.database.transaction(write=slot.write))
                kwargs[name] = session
                connection = connection or session.connection()
            for name in deferred:
                if connection is None:
                    connection = stack.enter_context(kwargs[name].database.autocommit())
                kwargs[name] = kwargs[name].resolve(connection)
            return endpoint(**kwargs)

    # FastAPI reads the parameters from the signature; evaluate the endpoint's string annotations in its
    # own module, since the wrapper lives in this one.
    run.__signature__ = inspect.signature(endpoint, eval_str=True)  # type: ignore[attr-defined]
    run._owns_transaction = True  # type: ignore[attr-defined]
    return run


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, with_transaction(endpoint), **kwargs)
