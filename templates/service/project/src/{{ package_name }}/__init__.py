"""The service package: one sub-package per domain, wired together in `main.create_app`."""
