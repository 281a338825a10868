"""Clock sync, scheduled playback, readiness and sync health (SPEC R110-R112, R120-R124, R130-R132)."""
