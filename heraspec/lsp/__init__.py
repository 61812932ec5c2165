"""The language server (`heraspec lsp`): validate's errors as you type, completion, hover, go to
definition, references, rename and quick fixes for YAML and TOML specs.

    text.py       where the cursor is in a (maybe half-typed) spec; how far an error's token reaches
    symbols.py    task, function, parameter, pipeline and template names in a loaded spec, with ranges
    project.py    the open specs: checked with pipeline.check_files, cached by text and module stamps
    complete.py   completion items          navigate.py   hover, definition, references, rename, fixes
    server.py     the LSP side (pygls, lsprotocol: the `heraspec[lsp]` extra)
"""
