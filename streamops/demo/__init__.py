"""The seed's sample data and the `local` story (the pipeline on this machine)."""
