"""transfers of the Region Halland provider."""
