"""Who may call what: API keys with scopes, and signed per-user socket tokens."""
