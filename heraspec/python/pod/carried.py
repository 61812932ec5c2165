"""The carried code: the user's modules (and data files), served under their own names."""

import json
import os
import sys

from .names import RUNTIME_FILE

# --- the carried code: the user's modules, served under their own names ---------------------------------

def serve_carried_modules(code):
    """Serve the carried modules under their own names, before anything installed, so that
    `from mypkg.steps import train` imports them as Python would, relative imports and all. Each
    runs from its original file name and line numbers, so tracebacks point at your files. `code`:
    the modules (and data files) as JSON, zlib-compressed, URL-safe base64 (script.code_text), or
    that table unpacked (unpack_code), as a workflow's script has it, with the runtime it ran
    (RUNTIME_FILE: its lines are shown in tracebacks too). Only what every task needs is imported
    here (start-up is per task): linecache and traceback, which pull in re, wait until an
    exception is printed."""
    table = unpack_code(code) if isinstance(code, str) else code
    modules, data = table["modules"], table.get("data") or {}
    if data:
        write_data_files(modules, data)
    finder = CarriedFinder(modules, on_disk=bool(data))
    if table.get("runtime"):
        finder.loaded[RUNTIME_FILE] = table["runtime"]
    sys.meta_path.insert(0, finder)

    def excepthook(kind, value, tb):  # with the carried source lines
        import linecache
        import traceback

        for filename, text in finder.loaded.items():
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        traceback.print_exception(kind, value, tb)

    sys.excepthook = excepthook


def unpack_code(code):
    """The table {"modules", "data"[, "runtime"]} that script.code_text packed: JSON, zlib-compressed,
    URL-safe base64."""
    import binascii  # not base64, which imports more
    import zlib

    packed = binascii.a2b_base64(code.replace("-", "+").replace("_", "/"))
    return json.loads(zlib.decompress(packed).decode("utf-8"))


def write_data_files(modules, data):
    """Write the modules and the data files they read beside them (Path(__file__).parent,
    importlib.resources) under $TMPDIR/heraspec/code, and point the modules' file names there."""
    import binascii

    root = os.path.join(os.environ.get("TMPDIR") or "/tmp", "heraspec", "code")
    files = {filename: text.encode("utf-8") for filename, _, text in modules.values()}
    files.update((path, binascii.a2b_base64(text)) for path, text in data.items())
    for path, content in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content)
    for name, (filename, package, text) in modules.items():
        modules[name] = [os.path.join(root, filename), package, text]


class CarriedFinder:
    """The meta path finder of the carried modules: {name: [filename, is_package, source]}."""

    def __init__(self, modules, on_disk):
        self.modules, self.on_disk = modules, on_disk
        self.loaded = {}  # filename -> source of the carried modules imported so far (and of the runtime)

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        filename, package, text = self.modules[name]
        self.loaded[filename] = text
        ModuleSpec = sys.modules["_frozen_importlib"].ModuleSpec  # importlib.machinery's, already loaded
        if self.on_disk:  # written out with its data files: a package finds its resources there
            spec = ModuleSpec(name, CarriedFileLoader(filename, text), origin=filename, is_package=package)
            if package:
                spec.submodule_search_locations.append(os.path.dirname(filename))
            spec.has_location = True
            return spec
        return ModuleSpec(name, CarriedLoader(filename, text), origin=filename, is_package=package)


class CarriedLoader:
    """The loader protocol (create_module, exec_module, get_source) for one carried module
    (importlib.abc would cost ~10 ms of start-up)."""

    def __init__(self, filename, text):
        self.filename, self.text = filename, text

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.filename
        exec(compile(self.text, self.filename, "exec"), module.__dict__)

    def get_source(self, name):  # linecache reads carried lines through this (lazycache)
        return self.text


class CarriedFileLoader(CarriedLoader):
    """The loader of a carried module written out with its data files (write_data_files)."""

    def get_data(self, path):  # pkgutil.get_data
        with open(path, "rb") as f:
            return f.read()

    def get_resource_reader(self, name):  # importlib.resources.files(), with the data written out
        return self

    def files(self):
        import pathlib

        return pathlib.Path(os.path.dirname(self.filename))
