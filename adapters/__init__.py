"""Implementations of the application's ports: AWS adapters and in-memory twins."""
