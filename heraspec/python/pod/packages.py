"""The package step: a task's `packages`, installed with pip before any of its code is imported."""

import json
import os
import sys

from .names import INSTALL_FAILED, PACKAGES_ENV

# --- the package step: the task's `packages`, before any of its code is imported ---------------------

def install_packages():
    """Install the task's `packages` (env PACKAGES_ENV) with pip, quietly. `heraspec run` prepares
    them in a cached environment instead and says so through PACKAGES_ENV_INSTALLED. Locked
    (`heraspec lock`): exactly the pins, hashes required, nothing resolved. A failed install ends
    with exit code INSTALL_FAILED and pip's reason."""
    import subprocess
    import tempfile

    wanted = os.environ.get(PACKAGES_ENV)
    if not wanted or os.environ.get(PACKAGES_ENV + "_INSTALLED") == wanted:
        return
    spec = json.loads(wanted)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--no-warn-script-location",
               "--disable-pip-version-check"]
    if spec.get("index_url"):
        command += ["--index-url", spec["index_url"]]
    for url in spec.get("extra_index_urls", []):
        command += ["--extra-index-url", url]
    if spec.get("locked"):
        pins = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        pins.write("\n".join(spec["locked"]) + "\n")
        pins.close()
        command += ["--no-deps", "--require-hashes", "-r", pins.name]
        what = " ".join(line.split(" ")[0] for line in spec["locked"])
    else:
        command += spec["packages"]
        what = " ".join(spec["packages"])
    env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        out = done.stdout.decode("utf-8", "replace")
        sys.stderr.write(out)
        sys.stderr.write(f"heraspec: installing packages {what} failed (pip exit code {done.returncode}): "
                         + " / ".join(pip_reason(out)[:6]) + "\n")
        raise SystemExit(INSTALL_FAILED)
    os.environ[PACKAGES_ENV + "_INSTALLED"] = wanted  # a process the task starts with spawn runs this file again


def pip_reason(out):
    """The reason in pip's output: the first lines a failed build printed itself, then pip's
    ERROR / error / × lines (else its last three lines)."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    own, said, block = [], [], 0
    for line in lines:
        if line.endswith(" lines of output]"):
            block = 2
        elif block and line != "[end of output]":
            own.append(line)
            block -= 1
        elif line.split(" ")[0] in ("ERROR:", "error:", "\u00d7") and "subprocess-exited-with-error" not in line:
            said.append(line)
    return list(dict.fromkeys(own + said)) or lines[-3:]
