"""The processor's webhooks over HTTP: no user, a signature instead (api/integrations/processor/webhooks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel

from api.deps import Public, SessionDep, SettingsDep
from api.integrations.processor import webhooks
from api.kit.routing import TransactionalRoute

router = APIRouter(tags=["integrations"], route_class=TransactionalRoute)


async def _raw_body(request: Request) -> bytes:
    # read here, asynchronously: the endpoint itself runs in the request's transaction, on a worker thread
    return await request.body()


class WebhookAck(BaseModel):
    outcome: str


@router.post(
    "/integrations/processor/webhooks",
    response_model=WebhookAck,
    # no user: the processor's signature is the credential
    dependencies=[Public],
    responses={
        400: {"description": "Not a processor event"},
        401: {"description": "Missing, wrong or stale signature (a replay)"},
        409: {"description": "The transfer is not known yet: the processor retries"},
    },
)
def processor_webhook(
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias=webhooks.SIGNATURE_HEADER)] = None,
) -> WebhookAck:
    """A transfer settled or was returned. Signed with `Processor-Signature: t=<unix>,v1=<HMAC-SHA256 hex of
    "<t>.<body>">`; a duplicate event id is acknowledged with outcome `duplicate` and changes nothing."""
    return WebhookAck(outcome=webhooks.process_delivery(session, settings, body, signature))
