"""The Python code carried into pods: find functions without importing them (`ast`), their
dependency closure, and the generated script that runs them.

Entry points: `functions.resolve`, `script.script_source`.
"""
