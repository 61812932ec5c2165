"""Argo's side: compile to a manifest, emit it, and the Argo Server client (apply / diff / wait).

Entry points: `compiler.compile_spec`, `emit.to_yaml` / `emit.to_json`, `applier.apply` / `applier.diff`,
`client.ArgoClient`. httpx is imported only by `client` and `applier`.
"""
