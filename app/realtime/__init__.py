"""Postgres NOTIFY -> per-user recommendation refresh -> pushes to sockets."""
