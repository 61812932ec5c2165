"""The DAG heraspec emits for the seed's examples equals the one Hera builds for the same pipeline.

Compared: tasks, their dependencies, arguments, resources and volumes (not the script sources:
inlining is where heraspec deliberately differs).
"""


from pathlib import Path

import pytest

import heraspec

hera = pytest.importorskip("hera.workflows", reason="Hera is a test extra: pip install -e '.[test]'")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def shape(manifest: dict) -> dict:
    spec = manifest["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = {}
    for t in templates[spec["entrypoint"]]["dag"]["tasks"]:
        tmpl = templates[t["template"]]["script"]
        tasks[t["name"]] = {
            "depends": t.get("depends"),
            "arguments": {p["name"]: p["value"] for p in t.get("arguments", {}).get("parameters", [])},
            "resources": tmpl.get("resources"),
            "mounts": tmpl.get("volumeMounts", []),
        }
    return {"name": manifest["metadata"]["name"], "tasks": tasks, "claims": spec.get("volumeClaimTemplates", [])}


def hera_diamond(name: str, big_b: bool) -> dict:
    from hera.workflows import DAG, Resources, Volume, Workflow, script

    @script(resources=Resources(cpu_request=1, memory_request="4Gi"))
    def say(msg: str):
        print(msg)

    @script(resources=Resources(cpu_request=4, memory_request="16Gi", gpus=1),
            volumes=[Volume(name="b-vol", size="50Gi", mount_path="/vol")])
    def say_big(msg: str):
        print(msg)

    with Workflow(name=name, entrypoint="main") as w:
        with DAG(name="main"):
            a = say(name="A", arguments={"msg": "This is task A!"})
            b = (say_big if big_b else say)(name="B", arguments={"msg": "This is task B!"})
            c = say(name="C", arguments={"msg": "This is task C!"})
            d = say(name="D", arguments={"msg": "This is task D!"})
            a >> [b, c] >> d
    return w.to_dict()


@pytest.mark.parametrize("example,name,big_b", [("diamond.yaml", "parallel-diamonds", False),
                                                ("diamond.toml", "parallel-diamonds", False),
                                                ("volume.yaml", "volume-diamond", True),
                                                ("volume.toml", "volume-diamond", True)])
def test_same_dag_as_hera(example: str, name: str, big_b: bool):
    (ours,) = heraspec.compile([str(EXAMPLES / example)])
    assert shape(ours.manifest) == shape(hera_diamond(name, big_b))
