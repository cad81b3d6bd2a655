"""The release pipeline's deploy step, run by `.github/workflows/release.yml` (see docs/deploy.md).

Kept out of the workflow's YAML so it can be tested outside GitHub, against an AWS API emulator.
It imports nothing from the app and needs only botocore (a runtime dependency already).
"""
