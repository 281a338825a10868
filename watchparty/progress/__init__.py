"""Watch progress: each user's position in each room's content (SPEC R80-R82, R62-R63)."""
