"""The core's unit tests: they read only the service's own core modules (no settings, no app,
no capability), so they are the same in every choice of capabilities; no fixture module."""

from ...fixtures import group

group("core")  # no fixture module: these tests build no settings or app and reach no service
