"""Thin entrypoints: the composition root, the Lambda handler, the `elm` command line."""
