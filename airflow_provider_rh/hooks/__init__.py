"""hooks of the Region Halland provider."""
