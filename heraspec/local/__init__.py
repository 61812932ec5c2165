"""`heraspec run`: the local executor of a compiled manifest, with Argo's semantics.

Entry points: `runner.run_workflow`, `runner.prune_run_dir`; `envs.python_for` (the Python a task runs with).
"""
