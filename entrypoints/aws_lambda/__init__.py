"""What runs in AWS: the event and sweep Lambda handlers, their container runtime, and how
an outcome becomes a log line and a metric. Imports no CLI and no local tool."""
