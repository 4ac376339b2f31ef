"""Custom resource definitions: checking them, serving their resources, validating objects."""
