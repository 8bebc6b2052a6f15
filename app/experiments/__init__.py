"""Online experiments: A/B tests and team-draft interleaving of recommendation
strategies. store (define, start, stop), serving (assign a user, interleave
lists), stats (the tests), report (figures per arm); docs/experiments.md."""
