"""Who created each item: a table of authentication's own, beside the items domain's.

One row per item, written in the same transaction as the item (the items `writing` hook, see
`ownership.py`) and deleted with it (ON DELETE CASCADE). Its migration is on the `auth` branch
of the migrations, so the items table is the same with or without this capability.
"""

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base

IDENTIFIER_MAX_LENGTH = 255


class ItemOwner(Base):
    __tablename__ = "item_owners"

    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(IDENTIFIER_MAX_LENGTH), index=True)
    """The creator's `sub`: a user, or for a machine token the client itself."""
    client_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_MAX_LENGTH))
    """The application it used, when the token says."""
