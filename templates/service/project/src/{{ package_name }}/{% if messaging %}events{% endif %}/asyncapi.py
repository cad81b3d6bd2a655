"""The AsyncAPI 3.0 document of this service's events, built from the code that sends them:
the channel names from the settings, the payload schema from `schemas.ItemEvent`, the headers
from `schemas` and `retries`. Served at GET /events/asyncapi.json."""

from typing import Any, get_args

from .channels import channels_of
from .config import Settings
from .retries import ATTEMPTS, EXCEPTION, NOT_BEFORE, ORIGINAL, ROUND
from .schemas import (
    CONTENT_TYPE,
    CONTENT_TYPE_HEADER,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VERSION,
    EventType,
    ItemEvent,
)

SCHEMAS = "#/components/schemas/"


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def event_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            EVENT_ID: _string("The event's id; the same on every delivery", format="uuid"),
            EVENT_TYPE: _string("The event type", enum=list(get_args(EventType))),
            EVENT_VERSION: _string("The payload version", enum=["1"]),
            CONTENT_TYPE_HEADER: _string("Always application/json", const=CONTENT_TYPE),
        },
        "required": [EVENT_ID, EVENT_TYPE, EVENT_VERSION, CONTENT_TYPE_HEADER],
        "additionalProperties": {"type": "string"},
    }


def failure_headers_schema() -> dict[str, Any]:
    schema = event_headers_schema()
    schema["properties"] = {
        **schema["properties"],
        ATTEMPTS: _string("Handling attempts so far, over every round"),
        EXCEPTION: _string("The last error: `Type: message`"),
        ROUND: _string("Rounds through the retry channel so far"),
        NOT_BEFORE: _string("(retry channel) Unix time before which it is not handled"),
    }
    schema["patternProperties"] = {
        f"^{ORIGINAL}": _string("Where it was first consumed: topic/partition/offset or queue")
    }
    return schema


def _message(event_type: str, headers: str) -> dict[str, Any]:
    return {
        "name": event_type,
        "title": f"{event_type}, version 1",
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": SCHEMAS + headers},
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS + "ItemEvent"},
                {"properties": {"type": {"const": event_type}}},
            ]
        },
        "bindings": {"kafka": {"key": {"type": "string", "format": "uuid"}}},
    }


def asyncapi_document(
    settings: Settings, title: str, version: str, protocol: str
) -> dict[str, Any]:
    channels = channels_of(settings)
    # Serialization mode: what a producer sends, every field present (version included).
    payload = ItemEvent.model_json_schema(ref_template=SCHEMAS + "{model}", mode="serialization")
    definitions = payload.pop("$defs", {})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{title} events",
            "version": version,
            "description": "Item events, published from the transactional outbox at least once "
            "and in order per item (the message key), and the notification consumer's retry "
            f"and dead-letter channels. Broker protocol: {protocol}.",
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            "items": _channel(
                channels.items, "Item events, keyed by item id.", "EventHeaders", protocol
            ),
            "itemsRetry": _channel(
                channels.retry,
                "Events waiting for another round of the consumer.",
                "FailureHeaders",
                protocol,
            ),
            "itemsDeadLetters": _channel(
                channels.dead_letters,
                "Events that failed every round, or could not be read; replayed by hand.",
                "FailureHeaders",
                protocol,
            ),
        },
        "operations": {
            "publishItemEvents": _operation(
                "send", "items", "The outbox relay publishes item events."
            ),
            "consumeItemEvents": _operation(
                "receive", "items", f"{channels.group} writes a notification per event."
            ),
            "retryItemEvents": _operation(
                "receive", "itemsRetry", f"{channels.retry_group} retries failed events."
            ),
            "deadLetterItemEvents": _operation(
                "send", "itemsDeadLetters", "The consumer parks events it cannot handle."
            ),
        },
        "components": {
            "schemas": {
                "ItemEvent": payload,
                **definitions,
                "EventHeaders": event_headers_schema(),
                "FailureHeaders": failure_headers_schema(),
            }
        },
    }


def _channel(address: str, description: str, headers: str, protocol: str) -> dict[str, Any]:
    messages = {
        event_type.replace(".", "_"): _message(event_type, headers)
        for event_type in get_args(EventType)
    }
    if protocol == "kafka":
        bindings: dict[str, Any] = {"kafka": {"topic": address}}
    else:
        bindings = {"amqp": {"is": "queue", "queue": {"name": address, "durable": True}}}
    return {
        "address": address,
        "description": description,
        "messages": messages,
        "bindings": bindings,
    }


def _operation(action: str, channel: str, summary: str) -> dict[str, Any]:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "summary": summary}
