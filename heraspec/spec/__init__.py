"""What the user wrote: load (YAML/TOML with positions), values, schema, model, the task graph, semantic checks.

Entry points: `load.load_file`, `values.load_values` / `values.apply_values`, `schema.check_schema`,
`semantic.check`, `dag.build_graph`. Nothing here is imported eagerly: `heraspec validate` starts fast.
"""
