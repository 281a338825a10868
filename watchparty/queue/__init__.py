"""The room queue and vote-skip (SPEC R150-R156)."""
