import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# PostgreSQL's OFFSET is a bigint: anything larger could not even be sent.
MAX_OFFSET = 2**63 - 1
# PostgreSQL text cannot hold the NUL character; refused here, it is a 422 rather than a 500.
WITHOUT_NUL = r"^[^\x00]*$"

ItemName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH, pattern=WITHOUT_NUL
    ),
]
ItemDescription = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH, pattern=WITHOUT_NUL)
]


class ItemCreate(BaseModel):
    """What a client sends to create an item; unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    name: ItemName
    description: ItemDescription | None = None


class ItemUpdate(BaseModel):
    """A partial update: only the fields sent change; `description: null` clears it."""

    model_config = ConfigDict(extra="forbid")

    name: ItemName | None = None
    description: ItemDescription | None = None

    @field_validator("name")
    @classmethod
    def _name_is_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("name cannot be null; leave it out to keep it")
        return value


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime


class ItemPage(BaseModel):
    """One page of items, oldest first, with the total so clients can page to the end.

    `next_cursor` is there when items follow this page: pass it as `cursor` to get them. Unlike
    `offset`, a cursor neither skips nor repeats items while others are added or deleted.
    """

    items: list[ItemRead]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = Field(default=None, exclude_if=lambda cursor: cursor is None)
