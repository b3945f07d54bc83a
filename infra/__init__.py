"""The plumbing every domain uses: database sessions, Redis, the broker, errors, fault points."""
