"""The release capability's tests that read every workflow, `ci.yml` included: a group of their
own, so the service's tests read no workflow and the release tests no other capability's file."""

from ...fixtures import group

group("release_workflows")  # no fixture module: these tests build no app and reach no service
