"""``install_as_simplejwt()``: ``rest_framework_simplejwt`` and every submodule become
keyfob.drf's, as PyMySQL's ``install_as_MySQLdb()`` does for ``MySQLdb``.

Call it at the top of ``settings.py``. From then on ``import rest_framework_simplejwt.tokens``
gives the very module ``keyfob.drf.tokens`` (so a patch of one is a patch of the other),
``'rest_framework_simplejwt.token_blacklist'`` in ``INSTALLED_APPS`` installs
``keyfob.drf.token_blacklist``, and dotted paths such as
``"rest_framework_simplejwt.authentication.JWTAuthentication"`` resolve to keyfob's classes:
packages built on simplejwt (dj-rest-auth, djoser, ...) then run on keyfob unchanged,
whether simplejwt is installed or not.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

ALIAS = "rest_framework_simplejwt"
TARGET = "keyfob.drf"


class _SameModule(importlib.abc.Loader):
    """Loads an alias name as the keyfob module itself (already run, identity kept)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system labelled the module with the alias's spec: it stays keyfob's,
        # so reloading or pickling by name keeps working.
        if self.spec is not None:
            module.__spec__ = self.spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        target_name = TARGET + fullname[len(ALIAS) :]
        if target_name.endswith(".__init__"):
            # `import package.__init__` runs the package's file again as a module of that
            # name; for the alias, keyfob's file under the alias's name.
            package = importlib.import_module(target_name[: -len(".__init__")])
            if package.__file__ is None:
                return None
            return importlib.util.spec_from_file_location(fullname, package.__file__)
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            return None
        if found is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _SameModule(target_name))
        if found.submodule_search_locations is not None:
            spec.submodule_search_locations = list(found.submodule_search_locations)
        return spec


_finder = _AliasFinder()


def install_as_simplejwt() -> None:
    """Make ``rest_framework_simplejwt`` (and every submodule) resolve to keyfob.drf.

    Idempotent. Raises ``RuntimeError`` if simplejwt itself was already imported: call it
    first thing in ``settings.py``."""
    if _finder in sys.meta_path:
        return
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and loaded is not sys.modules.get(TARGET):
        raise RuntimeError(
            "rest_framework_simplejwt was imported before keyfob.drf.install_as_simplejwt(): "
            "call it at the top of settings.py"
        )
    sys.meta_path.insert(0, _finder)
