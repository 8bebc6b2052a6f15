"""A synthetic shop for a first look without a data set."""
