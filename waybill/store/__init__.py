"""The store: schema, migrations, apply(), every SQL statement, outbox, message log, crypto."""
