"""Files and large values between tasks (issue 13): `pathlib.Path` parameters and returns become Argo
artifacts, `result: artifact` sends a return value through the artifact repository, fan-ins read
their producers' files in item order, and `{artifact: URL}` brings data from outside.

Through the CLI (`heraspec run --json`, real subprocesses and files, HTTP on 127.0.0.1); every
compiled manifest is strict-valid Argo, and the compiled scripts also run as Argo's executor would
(tests/argo_exec.py: a repository folder, inputs placed at their paths) with the same results.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

import heraspec
from tests.argo_exec import Repository, run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

ROOT = Path(__file__).resolve().parents[1]

STEPS = '''\
import hashlib
from pathlib import Path


def write_file(text: str) -> Path:
    out = Path("note.txt")
    out.write_text(text)
    return out


def write_folder(n: int) -> Path:
    out = Path("parts")
    (out / "sub").mkdir(parents=True)
    for i in range(n):
        (out / f"part-{i}.txt").write_text(f"part {i}")
    (out / "sub" / "deep.bin").write_bytes(bytes(range(256)))
    return out


def read_file(note: Path) -> dict:
    return {"name": note.name, "text": note.read_text()}


def read_folder(parts: Path) -> dict:
    files = sorted(str(p.relative_to(parts)) for p in parts.rglob("*") if p.is_file())
    return {"files": files, "deep": hashlib.sha256((parts / "sub" / "deep.bin").read_bytes()).hexdigest()}


def big(mb: int) -> list:
    return ["%07d" % i + "x" * 93 for i in range(mb * 10_000)]


def size(values: list) -> dict:
    import json
    return {"n": len(values), "sha": hashlib.sha256(json.dumps(values).encode()).hexdigest()}


def shard(letter: str) -> Path:
    out = Path(f"shard-{letter}.txt")
    out.write_text(letter * 3)
    return out


def join(shards: list[Path]) -> str:
    return "|".join(p.read_text() for p in shards)


def value_shard(letter: str) -> dict:
    return {"letter": letter}


def join_values(values: list) -> str:
    return "".join(v["letter"] for v in values)


def text(n: int) -> str:
    return "y" * n


def count(values: list) -> int:
    return len(values)


def length(text: str) -> int:
    return len(text)


def outside() -> Path:
    return Path("..") / ".." / "escaped.txt"


def missing() -> Path:
    return Path("never-written.txt")
'''


def project(tmp_path: Path, spec: str, name: str = "flow.yaml") -> Path:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / name).write_text(spec)
    (compiled,) = heraspec.compile([str(tmp_path / name)])
    assert_argo_valid(compiled.manifest)
    return tmp_path / name


def run(spec: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(spec.parent / "run"), *extra, cwd=spec.parent)
    return proc, (json.loads(proc.stdout) if proc.stdout.strip() else {})


FILES_YAML = """\
name: files
tasks:
  note: {function: steps:write_file, args: {text: "hello, file"}}
  folder: {function: steps:write_folder, args: {n: 3}}
  read_note: {function: steps:read_file, args: {note: {from: note}}}
  read_parts: {function: steps:read_folder, args: {parts: {from: folder}}}
"""
FILES_TOML = """\
name = "files"
[tasks.note]
function = "steps:write_file"
args = { text = "hello, file" }
[tasks.folder]
function = "steps:write_folder"
args = { n = 3 }
[tasks.read_note]
function = "steps:read_file"
args = { note = { from = "note" } }
[tasks.read_parts]
function = "steps:read_folder"
args = { parts = { from = "folder" } }
"""


@pytest.mark.parametrize("name,text", [("flow.yaml", FILES_YAML), ("flow.toml", FILES_TOML)])
def test_file_and_folder_artifacts(tmp_path: Path, name: str, text: str):
    proc, summary = run(project(tmp_path, text, name))
    assert proc.returncode == 0, proc.stderr
    tasks = summary["tasks"]
    assert tasks["read_note"]["result"] == {"name": "note.txt", "text": "hello, file"}
    assert tasks["read_parts"]["result"] == {
        "files": ["part-0.txt", "part-1.txt", "part-2.txt", "sub/deep.bin"],
        "deep": hashlib.sha256(bytes(range(256))).hexdigest()}
    # the summary lists each task's artifacts with their local paths, inside the run folder
    stored = Path(tasks["note"]["artifacts"]["result"])
    assert (stored / "note.txt").read_text() == "hello, file"
    assert (tmp_path / "run") in stored.parents
    assert sorted(p.name for p in Path(tasks["folder"]["artifacts"]["result"], "parts").iterdir()) == [
        "part-0.txt", "part-1.txt", "part-2.txt", "sub"]


def test_file_artifacts_compile_to_argo_artifacts_and_run_as_argos_executor(tmp_path: Path):
    spec = project(tmp_path, FILES_YAML)
    (compiled,) = heraspec.compile([str(spec)])
    m = compiled.manifest
    templates = {t["name"]: t for t in m["spec"]["templates"]}
    assert templates["write-file"]["outputs"] == {"artifacts": [
        {"name": "result", "path": "/tmp/heraspec/artifacts/out/result", "archive": {"none": {}}}]}
    assert templates["read-file"]["inputs"] == {"artifacts": [{"name": "note", "path": "/tmp/heraspec/artifacts/in/note"}]}
    dag = {t["name"]: t for t in m["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["read-note"]["arguments"] == {"artifacts": [
        {"name": "note", "from": "{{tasks.note.outputs.artifacts.result}}"}]}
    repo = Repository(tmp_path / "repo")
    for task in ("note", "folder"):
        run_task(m, task, tmp_path / task, repo=repo)
    assert run_task(m, "read-note", tmp_path / "rn", repo=repo)[0] == {"name": "note.txt", "text": "hello, file"}
    assert run_task(m, "read-parts", tmp_path / "rp", repo=repo)[0]["files"][-1] == "sub/deep.bin"


BIG = """\
name: big
tasks:
  make: {function: steps:big, args: {mb: 5}, result: artifact}
  use: {function: steps:size, args: {values: {from: make}}}
"""


def test_result_artifact_of_5_mb_arrives_unchanged(tmp_path: Path):
    proc, summary = run(project(tmp_path, BIG))
    assert proc.returncode == 0, proc.stderr
    values = ["%07d" % i + "x" * 93 for i in range(50_000)]
    assert len(json.dumps(values)) > 5_000_000
    assert summary["tasks"]["use"]["result"] == {"n": 50_000, "sha": hashlib.sha256(json.dumps(values).encode()).hexdigest()}
    # the same through the compiled scripts, run as Argo's executor would
    (compiled,) = heraspec.compile([str(tmp_path / "flow.yaml")])
    repo = Repository(tmp_path / "repo")
    run_task(compiled.manifest, "make", tmp_path / "make", repo=repo)
    assert run_task(compiled.manifest, "use", tmp_path / "use", repo=repo)[0] == summary["tasks"]["use"]["result"]


def test_result_artifact_in_defaults(tmp_path: Path):
    spec = BIG.replace("name: big\n", "name: big\ndefaults: {result: artifact}\n").replace(", result: artifact}", "}")
    proc, summary = run(project(tmp_path, spec))
    assert proc.returncode == 0, proc.stderr
    assert summary["tasks"]["use"]["result"]["n"] == 50_000


@pytest.mark.parametrize("n", [2_000_000, 200_000])  # over Argo's 256 KiB, and in the E2BIG band below it
def test_a_large_result_without_result_artifact_fails_the_task_clearly(tmp_path: Path, n: int):
    spec = project(tmp_path, "name: big\ntasks:\n  make: {function: steps:text, args: {n: %d}}\n"
                             "  use: {function: steps:length, args: {text: {from: make}}}\n" % n)
    proc, summary = run(spec)
    assert proc.returncode == 1
    make = summary["tasks"]["make"]
    assert make["phase"] == "Failed"
    assert f"text() returned {n:,} bytes" in make["message"]  # a str result is its own text
    assert "result: artifact" in (tmp_path / "run" / "make" / "stderr.log").read_text()
    assert summary["tasks"]["use"]["phase"] == "Omitted"
    # the compiled script fails the same way as Argo's executor runs it
    (compiled,) = heraspec.compile([str(spec)])
    with pytest.raises(AssertionError, match="Set `result: artifact`"):
        run_task(compiled.manifest, "make", tmp_path / "exec")


def test_a_fan_in_over_the_environment_limit_gets_a_clear_message(tmp_path: Path):
    # each child's value fits a parameter; Argo aggregates them into one input of 180 kB (E2BIG)
    spec = project(tmp_path, "name: agg\ntasks:\n  make:\n    function: steps:text\n    args: [{n: 60000}, {n: 60001}, {n: 60002}]\n"
                             "  use: {function: steps:count, args: {values: {from: make}}}\n")
    proc, summary = run(spec)
    assert proc.returncode == 1
    msg = summary["tasks"]["use"]["message"]
    assert "input 'values' is 180," in msg and "E2BIG" in msg and "result: artifact" in msg


FAN = """\
name: fan
tasks:
  shard:
    function: steps:shard
    foreach: [e, d, c, b, a]
    args: {letter: {item: true}}
  join: {function: steps:join, args: {shards: {from: shard}}}
  vshard:
    function: steps:value_shard
    args: [{letter: v}, {letter: w}, {letter: x}, {letter: y}, {letter: z}]
    result: artifact
  vjoin: {function: steps:join_values, args: {values: {from: vshard}}}
"""


def test_fan_out_of_5_files_into_a_fan_in_in_item_order(tmp_path: Path):
    proc, summary = run(project(tmp_path, FAN))
    assert proc.returncode == 0, proc.stderr
    assert summary["tasks"]["join"]["result"] == "eee|ddd|ccc|bbb|aaa"
    assert summary["tasks"]["vjoin"]["result"] == "vwxyz"
    (compiled,) = heraspec.compile([str(tmp_path / "flow.yaml")])
    m = compiled.manifest
    dag = {t["name"]: t for t in m["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["join"]["arguments"]["artifacts"] == [{"name": "shards", "archive": {"none": {}},
                                                      "s3": {"key": "heraspec/{{workflow.name}}/{{workflow.uid}}/shard"}}]
    # as Argo would: each child writes under its index, the consumer loads the whole prefix
    repo = Repository(tmp_path / "repo")
    for i, item in enumerate(dag["shard"]["withItems"]):
        run_task(m, "shard", tmp_path / f"s{i}", item=item, repo=repo)
    for i, item in enumerate(dag["vshard"]["withItems"]):
        run_task(m, "vshard", tmp_path / f"v{i}", item=item, repo=repo)
    assert run_task(m, "join", tmp_path / "join", repo=repo)[0] == "eee|ddd|ccc|bbb|aaa"
    assert run_task(m, "vjoin", tmp_path / "vjoin", repo=repo)[0] == "vwxyz"


OUTSIDE = """\
name: outside
tasks:
  s3: {function: steps:read_file, args: {note: {artifact: "s3://my-bucket/notes/a.txt", endpoint: s3.amazonaws.com}}}
  gs: {function: steps:read_file, args: {note: {artifact: "gs://other/b.txt"}}}
"""


def test_s3_and_gs_inputs_are_read_from_the_artifacts_folder(tmp_path: Path):
    spec = project(tmp_path, OUTSIDE)
    data = tmp_path / "data"
    (data / "my-bucket" / "notes").mkdir(parents=True)
    (data / "my-bucket" / "notes" / "a.txt").write_text("from s3")
    (data / "other").mkdir()
    (data / "other" / "b.txt").write_text("from gcs")
    proc, summary = run(spec, "--artifacts", str(data))
    assert proc.returncode == 0, proc.stderr
    assert summary["tasks"]["s3"]["result"] == {"name": "a.txt", "text": "from s3"}
    assert summary["tasks"]["gs"]["result"] == {"name": "b.txt", "text": "from gcs"}
    (compiled,) = heraspec.compile([str(spec)])
    dag = {t["name"]: t for t in compiled.manifest["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["s3"]["arguments"]["artifacts"] == [{"name": "note", "archive": {"none": {}}, "s3": {
        "endpoint": "s3.amazonaws.com", "bucket": "my-bucket", "key": "notes/a.txt", "useSDKCreds": True}}]
    assert dag["gs"]["arguments"]["artifacts"][0]["gcs"] == {"bucket": "other", "key": "b.txt"}
    repo = Repository(tmp_path / "repo", buckets=data)
    assert run_task(compiled.manifest, "s3", tmp_path / "x", repo=repo)[0] == summary["tasks"]["s3"]["result"]
    # without --artifacts: a clear task failure
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run2"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "pass --artifacts DIR (the file is then DIR/BUCKET/KEY)" in json.loads(proc.stdout)["tasks"]["s3"]["message"]


@pytest.fixture(params=["http", "https"])
def http_server(tmp_path: Path, request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A file server on 127.0.0.1; https with a throw-away certificate that the run trusts through
    SSL_CERT_FILE (what a user with a private CA would set)."""
    root = tmp_path / "www"
    root.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if request.param == "https":
        import ssl

        from tests.argo_server import self_signed_certificate

        (tmp_path / "tls").mkdir()
        cert, key = self_signed_certificate(tmp_path / "tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        monkeypatch.setenv("SSL_CERT_FILE", cert)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{request.param}://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_http_input_is_downloaded(tmp_path: Path, http_server: tuple[str, Path]):
    url, www = http_server
    (www / "reads.fq").write_bytes(b"@r1\nACGT\n+\nIIII\n")
    spec = project(tmp_path, "name: web\ntasks:\n  get: {function: steps:read_file, args: {note: {artifact: \"%s/reads.fq\"}}}\n"
                             "  missing: {function: steps:read_file, args: {note: {artifact: \"%s/nope.fq\"}}}\n" % (url, url))
    proc, summary = run(spec)
    assert summary["tasks"]["get"]["result"] == {"name": "reads.fq", "text": "@r1\nACGT\n+\nIIII\n"}
    assert summary["tasks"]["missing"]["phase"] == "Error"
    assert "cannot download" in summary["tasks"]["missing"]["message"] and "HTTP 404" in summary["tasks"]["missing"]["message"]
    (compiled,) = heraspec.compile([str(spec)])
    assert run_task(compiled.manifest, "get", tmp_path / "x", repo=Repository(tmp_path / "repo"))[0]["name"] == "reads.fq"


def test_an_https_artifact_redirected_to_plain_http_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A download asked for over https that a server redirects to http would arrive unencrypted:
    the task ends in Error saying so; a redirect that stays on https is still followed."""
    import ssl

    from tests.argo_server import self_signed_certificate

    www = tmp_path / "www"
    www.mkdir()
    (www / "notes.txt").write_text("secret notes")

    class Files(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Files, directory=str(www)))
    plain_url = f"http://127.0.0.1:{plain.server_address[1]}"

    class Redirects(Files):
        def do_GET(self) -> None:
            if self.path.startswith("/down/"):
                target = plain_url + "/" + self.path.split("/", 2)[2]
            elif self.path.startswith("/same/"):
                target = "/" + self.path.split("/", 2)[2]
            else:
                return super().do_GET()
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Redirects, directory=str(www)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    https_url = f"https://127.0.0.1:{secure.server_address[1]}"
    for server in (plain, secure):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = project(tmp_path, "name: web\ntasks:\n"
                       f"  down: {{function: steps:read_file, args: {{note: {{artifact: \"{https_url}/down/notes.txt\"}}}}}}\n"
                       f"  same: {{function: steps:read_file, args: {{note: {{artifact: \"{https_url}/same/notes.txt\"}}}}}}\n")
        proc, summary = run(spec)
    finally:
        for server in (plain, secure):
            server.shutdown()
            server.server_close()
    assert proc.returncode == 1
    down = summary["tasks"]["down"]
    assert down["phase"] == "Error"
    assert down["message"] == (f"input artifact 'note': cannot download {https_url}/down/notes.txt: it redirects to "
                               f"{plain_url}/notes.txt, which is not encrypted (https to http is refused)")
    assert summary["tasks"]["same"]["result"] == {"name": "notes.txt", "text": "secret notes"}
    assert not list((tmp_path / "run").rglob("notes.txt.part"))


def test_artifact_repository_ref(tmp_path: Path):
    spec = project(tmp_path, "name: repo\nartifact_repository: {config_map: my-repos, key: minio}\n" + FILES_YAML.split("\n", 1)[1])
    (compiled,) = heraspec.compile([str(spec)])
    assert compiled.manifest["spec"]["artifactRepositoryRef"] == {"configMap": "my-repos", "key": "minio"}


@pytest.mark.parametrize("fn,why", [("outside", "lies outside the task's working folder"),
                                    ("missing", "does not exist")])
def test_a_bad_returned_path_fails_the_task_and_writes_nothing_outside(tmp_path: Path, fn: str, why: str):
    (tmp_path / "escaped.txt").write_text("not mine")
    proc, summary = run(project(tmp_path, f"name: bad\ntasks:\n  t: {{function: steps:{fn}}}\n"))
    assert proc.returncode == 1
    assert summary["tasks"]["t"]["phase"] == "Failed"
    assert why in (tmp_path / "run" / "t" / "stderr.log").read_text()
    assert (tmp_path / "escaped.txt").read_text() == "not mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["escaped.txt", "flow.yaml", "run", "steps.py"]


def test_graph_shows_the_edges_that_carry_files(tmp_path: Path):
    proc = heraspec_cli("graph", str(project(tmp_path, FAN)), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'shard ==>|"files"| join' in proc.stdout
    assert 'vshard ==>|"artifact"| vjoin' in proc.stdout
    proc = heraspec_cli("graph", str(tmp_path / "flow.yaml"), "--format", "dot", cwd=tmp_path)
    assert '"shard" -> "join" [label="files", penwidth="2"];' in proc.stdout


def test_the_sequencing_example_gives_the_same_report_through_argos_executor(tmp_path: Path):
    spec = ROOT / "examples" / "sequencing.yaml"
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["tasks"]["report"]["result"]
    assert report["shards"] == [f"kmers-{i}.tsv" for i in range(5)] and report["reads"] == 200
    (compiled,) = heraspec.compile([str(spec)])
    m = compiled.manifest
    assert_argo_valid(m)
    dag = {t["name"]: t for t in m["spec"]["templates"][0]["dag"]["tasks"]}
    repo = Repository(tmp_path / "repo")
    run_task(m, "make-reads", tmp_path / "make", repo=repo)
    for i, item in enumerate(dag["count"]["withItems"]):
        run_task(m, "count", tmp_path / f"count{i}", item=item, repo=repo)
    for task in ("merge", "gc"):
        run_task(m, task, tmp_path / task, repo=repo)
    assert run_task(m, "report", tmp_path / "report", repo=repo)[0] == report


def test_a_literal_argument_too_large_for_the_environment_is_a_located_error(tmp_path: Path):
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: lit\ntasks:\n  t:\n    function: steps:count\n    args: {values: [%s]}\n"
                    % ", ".join(['"%s"' % ("z" * 1000)] * 140))
    proc = heraspec_cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{spec}:5:20: error: the value of parameter 'values' of count() is 140,421 bytes: "
                                  "an input reaches the pod through one environment variable")
    assert "{artifact: URL}" in proc.stderr


def test_each_item_of_a_fan_out_reads_its_own_url(tmp_path: Path, http_server: tuple[str, Path]):
    url, www = http_server
    for name in ("s1.txt", "s2.txt", "s3.txt"):
        (www / name).write_text(name.upper())
    spec = project(tmp_path, "name: per-item\ntasks:\n  read:\n    function: steps:read_file\n    args:\n"
                   + "".join('      - {note: {artifact: "%s/%s"}}\n' % (url, n) for n in ("s3.txt", "s1.txt", "s2.txt")))
    proc, summary = run(spec)
    assert proc.returncode == 0, proc.stderr
    assert [c["result"] for c in summary["tasks"]["read"]["children"]] == [
        {"name": "s3.txt", "text": "S3.TXT"}, {"name": "s1.txt", "text": "S1.TXT"}, {"name": "s2.txt", "text": "S2.TXT"}]
    (compiled,) = heraspec.compile([str(spec)])
    m = compiled.manifest
    dag = {t["name"]: t for t in m["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["read"]["arguments"]["artifacts"] == [{"name": "note", "archive": {"none": {}},
                                                      "http": {"url": "{{item.heraspec_url_note}}"}}]
    repo = Repository(tmp_path / "repo")
    assert [run_task(m, "read", tmp_path / f"r{i}", item=item, repo=repo)[0]
            for i, item in enumerate(dag["read"]["withItems"])] == [c["result"] for c in summary["tasks"]["read"]["children"]]


def test_a_repository_key_is_read_from_the_artifacts_folder_and_files_show_in_the_summary(tmp_path: Path):
    spec = project(tmp_path, "name: key\ntasks:\n  read: {function: steps:read_file, args: {note: {artifact: {key: inputs/n.txt}}}}\n"
                             "  note: {function: steps:write_file, args: {text: hi}}\n")
    (tmp_path / "data" / "inputs").mkdir(parents=True)
    (tmp_path / "data" / "inputs" / "n.txt").write_text("from the repository")
    proc, summary = run(spec, "--artifacts", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    assert summary["tasks"]["read"]["result"] == {"name": "n.txt", "text": "from the repository"}
    assert "note.txt" in next(ln for ln in proc.stderr.splitlines() if ln.strip().startswith("note "))
    (compiled,) = heraspec.compile([str(spec)])
    dag = {t["name"]: t for t in compiled.manifest["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["read"]["arguments"]["artifacts"] == [{"name": "note", "archive": {"none": {}}, "s3": {"key": "inputs/n.txt"}}]
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run2"), cwd=tmp_path)
    assert "pass --artifacts DIR to read DIR/KEY" in json.loads(proc.stdout)["tasks"]["read"]["message"]
