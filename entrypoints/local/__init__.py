"""The developer tools behind `elm simulate`, `elm local` and `elm package`: scenario files,
the in-memory simulation, the local AWS on moto, the local pipeline, the Lambda zip builder.
Never imported by what runs in AWS."""
