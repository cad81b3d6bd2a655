import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


class Item(Base):
    __tablename__ = "items"
    # The INSERT returns created_at (RETURNING): hooks that run before the commit can read it.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy's own attribute

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
