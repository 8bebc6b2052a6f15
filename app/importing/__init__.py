"""Bulk import of events and items from delimited files (`recsys import`)."""
