"""The release workflow's unit tests: they read the workflow file, and no fixture module."""

from ...fixtures import group

group("release")  # no fixture module: these tests build no app and reach no service
