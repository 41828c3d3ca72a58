"""Alembic environment: runs on the connection handed over by storage.db."""

from alembic import context

from storage import models

target_metadata = models.metadata


def run_migrations() -> None:
    """Run migrations on the connection storage.db passed in (online mode only)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SystemExit("Run migrations through `achterban db upgrade`.")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
