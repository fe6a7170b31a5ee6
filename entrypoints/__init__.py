"""The outer ring, in rooms: `composition` (the composition root and settings),
`aws_lambda` (the functions that run in AWS), `cli` (the `elm` command line) and `local`
(the developer tools: scenarios, simulation, the local AWS, packaging).
`lambda_handler`, `sweep_handler` and `sweep_run_handler` are the doors the templates name."""
