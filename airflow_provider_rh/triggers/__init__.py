"""triggers of the Region Halland provider."""
