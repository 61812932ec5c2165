"""Argo's side: compile to a manifest, emit it, and the Argo Server client (apply / diff / wait).

Entry points: `compiler.compile_spec`, `emit.to_yaml` / `emit.to_json`, `applier.apply` / `applier.diff`,
`client.ArgoClient`, `compare.live_view`, `follow.follow_workflow`. httpx is imported only when a
client is built.
"""
