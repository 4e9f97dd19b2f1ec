"""Alembic environment: runs on the connection handed over by waybill.store.db.upgrade."""

from alembic import context

from waybill.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
