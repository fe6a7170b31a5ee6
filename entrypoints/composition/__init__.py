"""The composition root: settings from the environment, and the injector modules that wire
the use cases to AWS adapters or to in-memory twins. The one place that knows adapters."""
