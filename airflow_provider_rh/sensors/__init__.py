"""sensors of the Region Halland provider."""
