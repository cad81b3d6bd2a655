"""The app's own database role: rights on the data, none on the schema.

The migrations run as the owner of the tables (on RDS, the master user); the app connects as a
role of its own (DATABASE_APP_ROLE, on RDS authenticated by IAM tokens, see `database_iam.py`),
which may read and write rows and nothing else: no DDL, no dropping, no writing the migration
history. `grant_app_role` runs at the end of every `alembic upgrade` when DATABASE_APP_ROLE is
set, so each new table is granted as it is created; every statement is idempotent.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

DATA_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT"


def grant_app_role(connection: Connection, role: str, *, version_table: str) -> None:
    """Create `role` if needed (LOGIN, no password) and give it the rights the app needs."""
    quote = connection.dialect.identifier_preparer.quote
    name = quote(role)
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if exists.first() is None:
        connection.execute(text(f"CREATE ROLE {name} LOGIN"))
    rds_iam = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'"))
    if rds_iam.first() is not None:  # on RDS: the role logs in with IAM tokens only
        connection.execute(text(f"GRANT rds_iam TO {name}"))
    database = quote(str(connection.execute(text("SELECT current_database()")).scalar_one()))
    for statement in (
        f"GRANT CONNECT ON DATABASE {database} TO {name}",
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"GRANT {DATA_RIGHTS} ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA public TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DATA_RIGHTS} ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {name}",
        f"REVOKE ALL ON {quote(version_table)} FROM {name}",
    ):
        connection.execute(text(statement))
