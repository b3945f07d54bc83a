"""Who may call: API keys, their check on every request, the failed-auth throttle,
the per-key rate limit, and the audit log of key changes."""
