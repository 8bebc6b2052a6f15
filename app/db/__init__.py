"""Everything that talks to PostgreSQL: pool, embedded server, typed queries."""
