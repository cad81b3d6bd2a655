"""CI/CD in the capability protocol: nothing at runtime. The release tooling (`python -m
<package>.release`) runs beside the service, from the release workflow; the app serves the
same with or without it."""

from ..capability import Capability

CAPABILITY = Capability(name="cicd")
