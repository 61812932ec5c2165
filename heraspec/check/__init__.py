"""Every rule, in one layer above document/, python/ and argo_lang/: names and edges (`dag`), files
between tasks (`files`), composition (`compose`), literal values through Argo's substitution
(`argotext`), types across the graph (`types`, `typerules`), Argo's and Kubernetes' own rules (`rules`,
`production_rules`, `argo_fields`), gathered by `semantic.check`; `spectext` tells a rule when the
spec's text cannot hold what it looks for. They read the typed model
(document/nodes.py) pipeline.py builds once per spec, also one with schema errors. Only pipeline.py and
the stages above it import them; the compiler consumes checked input.
"""
