"""The stubs cover what stubtest cannot see: every Config field of the core is a typed
kwarg of Engine in _keyfob.pyi, and the package re-exports the whole native module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import keyfob
import pytest

STUB = Path(keyfob.__file__).with_name("_keyfob.pyi")


def config_fields() -> set[str]:
    """The kwargs the engine knows, as its ConfigError for an unknown one lists them."""
    with pytest.raises(keyfob.ConfigError) as caught:
        keyfob.Engine("x" * 32, no_such_field=1)  # type: ignore[call-arg]
    known = re.search(r"\(known: ([^)]*)\)", str(caught.value))
    assert known is not None
    return set(known.group(1).split(", "))


def stub_engine_kwargs() -> set[str]:
    tree = ast.parse(STUB.read_text())
    engine = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine")
    new = next(n for n in engine.body if isinstance(n, ast.FunctionDef) and n.name == "__new__")
    return {a.arg for a in new.args.kwonlyargs}


def test_every_config_field_is_in_the_stub() -> None:
    assert stub_engine_kwargs() == config_fields() | {"clock"}


def test_the_package_reexports_the_native_module() -> None:
    assert set(keyfob.__all__) == set(keyfob._keyfob.__all__) | {"__version__"}
    for name in keyfob.__all__:
        assert getattr(keyfob, name) is getattr(keyfob._keyfob, name)


def test_py_typed_marker_is_shipped() -> None:
    assert Path(keyfob.__file__).with_name("py.typed").exists()
