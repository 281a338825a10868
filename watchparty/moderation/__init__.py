"""Kick, ban and unban (SPEC R105)."""
