"""The Python code carried into pods: find functions without importing them (`ast`), their
dependency closure, the user's modules they need, their third-party packages, and the generated
script that runs them.

Entry points: `functions.resolve`, `modules.carry` (through `functions.bundle`), `packages.for_task`,
`packages.uncovered`, `script.script_source`.
"""
