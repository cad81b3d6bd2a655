import uuid
from http import HTTPStatus

from ..problems import ProblemError


class ItemNotFoundError(ProblemError):
    status = HTTPStatus.NOT_FOUND

    def __init__(self, item_id: uuid.UUID) -> None:
        super().__init__(f"Item {item_id} does not exist.")
