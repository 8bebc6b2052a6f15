"""The schema and named queries as plain SQL, installed as the package data `app.sql`."""
