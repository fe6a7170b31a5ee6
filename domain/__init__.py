"""The pure rules of exception lifecycle management: no I/O, no clock, no AWS SDK."""
