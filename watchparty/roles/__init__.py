"""Roles in a room, the permission table and room settings (SPEC R100-R104, R107)."""
