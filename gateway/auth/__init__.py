"""Who is calling (authentication) and whether they may (authorisation)."""
