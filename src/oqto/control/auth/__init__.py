"""Authentication: password hashing, revocable tokens, login throttling."""
