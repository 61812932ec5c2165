"""What the user wrote: load YAML/TOML with positions, `--values`, the JSON Schema, the spec model and
a task's settings after `defaults`.

Imports nothing of heraspec but errors.py and the base modules. Entry points: `load.load_file`,
`values.load_values` / `values.apply_values`, `schema.check_schema`, `settings.effective`,
`nodes.build_model` (the typed model of a valid spec). Nothing here is imported eagerly: `heraspec
validate` starts fast.
"""
