"""The messaging capability's endpoint: the AsyncAPI document of the events."""

from typing import Any

from fastapi import APIRouter, Request

from .asyncapi import asyncapi_document
from .dependencies import messaging_of

router = APIRouter(prefix="/events", tags=["events"])


@router.get("/asyncapi.json")
async def asyncapi(request: Request) -> dict[str, Any]:
    """The events this service publishes and consumes, as an AsyncAPI 3.0 document."""
    app = request.app
    messaging = messaging_of(app)
    protocol = messaging.transport.protocol
    return asyncapi_document(messaging.settings, app.title, app.version, protocol)
