"""The harness: reports, experiments and records (experiment), claims and verdicts (claims),
tables (table), the command line (cli), runners (runner, ray_runner), --set (settings),
calibration searches (calibration), committed records (results), TensorBoard events (events)."""
