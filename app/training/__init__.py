"""Offline models: read tables -> fit -> write tables (never the web layer)."""
