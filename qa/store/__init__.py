"""The database: schema, engine, read queries, writes, and the run lock."""
