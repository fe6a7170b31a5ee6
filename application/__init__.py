"""Use cases and the ports they need from the world. Imports the domain only."""
