"""The revisions' frozen SQL, installed as `app.migrations.sql`."""
