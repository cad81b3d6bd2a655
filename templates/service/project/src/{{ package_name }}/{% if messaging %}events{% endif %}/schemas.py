"""The events this service publishes: versioned payloads with a stable id, and their headers.

The catalogue (also in the README and in GET /events/asyncapi.json):

| type | version | when |
|---|---|---|
| `item.created` | 1 | an item was created |
| `item.updated` | 1 | an item was changed (the payload holds it as written) |
| `item.deleted` | 1 | an item was deleted (the payload holds it as it was) |

Compatibility: within a version, fields are only added (consumers ignore fields they do not
know); a change that removes or changes a field is a new version, published beside the old one
until every consumer reads it. A consumer that meets a version it does not know sends the
message to the dead-letter channel instead of guessing.
"""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

EventType = Literal["item.created", "item.updated", "item.deleted"]
AGGREGATE_TYPE = "item"
CONTENT_TYPE = "application/json"

# Headers every message carries (values are strings on both brokers), beside those of the
# `message_headers` extension point (tenant, trace context).
EVENT_ID = "event-id"
EVENT_TYPE = "event-type"
EVENT_VERSION = "event-version"
CONTENT_TYPE_HEADER = "content-type"


class ItemData(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime


class ItemEvent(BaseModel):
    """Version 1 of the item events; `event_id` is the same on every delivery of one event."""

    # Every field is always sent, so the published schema (asyncapi.py) requires them all.
    model_config = ConfigDict(
        frozen=True, extra="ignore", json_schema_serialization_defaults_required=True
    )

    event_id: uuid.UUID
    type: EventType
    version: Literal[1] = 1
    occurred_at: datetime
    aggregate_id: uuid.UUID
    tenant: str | None = None
    """The tenant the change was made for, when the service has tenants."""
    data: ItemData


class PoisonMessageError(Exception):
    """A message no retry can help: it does not decode to an event this consumer knows."""


def decode_event(body: bytes) -> ItemEvent:
    try:
        return ItemEvent.model_validate_json(body)
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in error.errors()[:5])
        raise PoisonMessageError(f"not an item event v1 ({fields})") from None


def event_headers(event: ItemEvent) -> dict[str, str]:
    return {
        EVENT_ID: str(event.event_id),
        EVENT_TYPE: event.type,
        EVENT_VERSION: str(event.version),
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
    }
