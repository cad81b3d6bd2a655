"""The release tooling takes its settings as command-line arguments (see `__main__.py`): the
service's own settings gain no section."""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    """No settings: every value comes from the release workflow's arguments."""
