"""IAM database authentication: every new connection logs in with a fresh token, no password.

With DATABASE_IAM_AUTH=true (as deployed on RDS, see deploy/terraform/rds.tf), the app's own
role has no password at all: each new connection presents an authentication token that the
task's IAM role signs (botocore's `generate_db_auth_token`, valid 15 minutes, computed locally
from the task's credentials, no API call). Nothing is stored, so nothing needs rotating, and a
connection opened a week after the deploy works as well as the first. RDS accepts such tokens
only over TLS, which DATABASE_SSLMODE=verify-full gives.
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_PORT = 5432


def authenticate_with_iam_tokens(engine: AsyncEngine) -> None:
    """Give every connection the engine opens a fresh token as its password."""
    # Deferred: only deployed services authenticate this way; the others never import botocore.
    import botocore.session  # noqa: PLC0415
    from botocore.signers import generate_db_auth_token  # noqa: PLC0415

    client = botocore.session.get_session().create_client("rds")
    url = engine.url
    host, port, user = url.host, url.port or DEFAULT_PORT, url.username
    if not (host and user):
        raise ValueError("IAM authentication needs the database host and user in the URL")

    @event.listens_for(engine.sync_engine, "do_connect")
    def use_a_fresh_token(_: Any, __: Any, ___: Any, parameters: dict[str, Any]) -> None:
        parameters["password"] = str(
            generate_db_auth_token(client, DBHostname=host, Port=port, DBUsername=user)
        )
