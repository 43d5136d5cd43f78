"""connectors/openapi package."""
