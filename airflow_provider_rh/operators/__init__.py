"""operators of the Region Halland provider."""
