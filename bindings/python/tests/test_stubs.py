"""The stubs cover what stubtest cannot see: every Config field of the core is a typed
kwarg of Engine in _keyfob.pyi, the package re-exports the whole native module, every
public name is documented with the same text in the stub and at run time, and the
TypedDicts describe the dicts the engine really returns."""

from __future__ import annotations

import ast
import inspect
import re
import types
import typing
from pathlib import Path

import keyfob
import pytest
from engine_support import SECRET

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
    assert stub_engine_kwargs() == config_fields() | {"clock", "on_event"}


def test_the_package_reexports_the_native_module() -> None:
    typed_dicts = {"Claims", "Stats", "SessionInfo", "Event", "Metrics", "Histogram", "NearCache"}
    assert set(keyfob.__all__) == set(keyfob._keyfob.__all__) | typed_dicts
    for name in keyfob._keyfob.__all__:
        assert getattr(keyfob, name) is getattr(keyfob._keyfob, name)


def test_py_typed_marker_is_shipped() -> None:
    assert Path(keyfob.__file__).with_name("py.typed").exists()


# -- documentation: every public name documented, the same text in the stub and at run time --


def normalized(doc: str | None) -> str:
    """A docstring with its line breaks and indentation folded away."""
    return " ".join((doc or "").split())


def stub_docstrings() -> dict[str, str]:
    """Docstring of every class, function, method and property of the stub, by dotted name."""
    docs: dict[str, str] = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            docs[node.name] = ast.get_docstring(node) or ""
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and not member.name.startswith("_"):
                    docs[f"{node.name}.{member.name}"] = ast.get_docstring(member) or ""
    return docs


def runtime_object(dotted: str) -> object:
    """The object a stub name stands for; a property is looked up on its class, unbound."""
    owner, _, member = dotted.partition(".")
    obj = getattr(keyfob._keyfob, owner)
    return inspect.getattr_static(obj, member) if member else obj


def public_members(cls: type) -> list[str]:
    return [n for n in vars(cls) if not n.startswith("_")]


@pytest.mark.parametrize("name", sorted(set(keyfob.__all__) - {"__version__"}))
def test_every_public_name_and_member_has_a_docstring(name: str) -> None:
    obj = getattr(keyfob, name)
    assert normalized(obj.__doc__), f"keyfob.{name} has no docstring"
    if isinstance(obj, type) and not issubclass(obj, BaseException | dict):
        for member in public_members(obj):
            doc = inspect.getattr_static(obj, member).__doc__
            assert normalized(doc), f"keyfob.{name}.{member} has no docstring"


def test_every_stub_name_is_documented_in_the_stub() -> None:
    docs = stub_docstrings()
    undocumented = sorted(name for name, doc in docs.items() if not doc)
    assert undocumented == []
    # Every native class and function, and every public method and property, is in the stub.
    for name in keyfob._keyfob.__all__:
        obj = getattr(keyfob._keyfob, name)
        if name == "__version__":
            continue
        assert name in docs, name
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for member in public_members(obj):
                assert f"{name}.{member}" in docs, f"{name}.{member} is not in the stub"


@pytest.mark.parametrize("name", sorted(stub_docstrings()))
def test_runtime_docstring_is_the_stubs(name: str) -> None:
    """help() and an editor's hover say the same thing."""
    assert normalized(runtime_object(name).__doc__) == normalized(stub_docstrings()[name])


def test_every_engine_keyword_is_documented() -> None:
    doc = keyfob.Engine.__doc__ or ""
    for kwarg in sorted(stub_engine_kwargs()):
        assert f"`{kwarg}=" in doc or f"`{kwarg}`" in doc, f"Engine keyword {kwarg} is undocumented"


def test_module_docstring_draws_the_exception_tree() -> None:
    doc = keyfob.__doc__ or ""
    errors = [n for n in keyfob.__all__ if n.endswith("Error")]
    assert [n for n in errors if n not in doc] == []


# -- the TypedDicts describe what the engine returns -------------------------------------------


def conforms(value: object, hint: object) -> bool:
    """Whether a JSON value fits a type hint built of unions, str, int, float, list, dict."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items()
        )
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


def test_claims_describes_every_claim_keyfob_writes() -> None:
    from dpop_support import DpopKey

    hints = typing.get_type_hints(keyfob.Claims)
    assert keyfob.Claims.__required_keys__ == {"exp"}
    engine = keyfob.Engine(SECRET, issuer="https://issuer.example", audience="api")
    key = DpopKey()
    url = "https://api.example.com/"
    pair = engine.login(
        "u", {"role": "admin"}, dpop=keyfob.DpopRequest(key.proof("POST", url), "POST", url)
    )
    assert pair.refresh is not None
    access = engine.validate(
        pair.access,
        dpop=keyfob.DpopRequest(key.proof("GET", url, access=pair.access), "GET", url),
    )
    sliding = engine.validate_sliding(engine.login_sliding(7).token)
    seen: set[str] = set()
    for claims in (access, engine.verify(pair.refresh), sliding):
        for claim, value in claims.items():
            if claim == "role":  # an extra claim: not the engine's to describe
                continue
            assert claim in hints, f"claim {claim} is not in keyfob.Claims"
            assert conforms(value, hints[claim]), (claim, value, hints[claim])
            seen.add(claim)
    # Every claim keyfob writes is described; nbf is only read (from tokens minted elsewhere).
    assert seen == set(hints) - {"nbf"}


def test_stats_describes_what_stats_returns(engine: keyfob.Engine) -> None:
    engine.login("u")
    stats = engine.stats()
    hints = typing.get_type_hints(keyfob.Stats)
    assert set(stats) == set(hints)
    assert all(conforms(stats[k], hints[k]) for k in hints)  # type: ignore[literal-required]


def test_session_info_describes_what_sessions_returns(engine: keyfob.Engine) -> None:
    engine.login("u", label="phone", ip="::1", user_agent="app", data={"k": 1})
    [info] = engine.sessions("u")
    hints = typing.get_type_hints(keyfob.SessionInfo)
    assert set(info) == set(hints)
    assert all(conforms(info[k], hints[k]) for k in hints)  # type: ignore[literal-required]


def test_event_describes_what_the_handler_receives(engine: keyfob.Engine) -> None:
    events: list[keyfob.Event] = []
    engine.set_event_handler(events.append)
    engine.revoke_session(engine.login("u", label="phone").session_id)
    hints = typing.get_type_hints(keyfob.Event)
    assert [e["kind"] for e in events] == ["login", "session_revoked"]
    for event in events:
        assert set(event) == set(hints)
        assert all(conforms(event[k], hints[k]) for k in hints)  # type: ignore[literal-required]


def test_metrics_describes_what_metrics_returns(engine: keyfob.Engine) -> None:
    engine.sessions("u")
    metrics = engine.metrics()
    hints = typing.get_type_hints(keyfob.Metrics)
    assert set(metrics) == set(hints)
    for key in ("operations", "errors", "live_sessions"):
        assert conforms(metrics[key], hints[key])
    histogram_keys = set(typing.get_type_hints(keyfob.Histogram))
    assert metrics["store_latency"]
    for histogram in metrics["store_latency"].values():
        assert set(histogram) == histogram_keys
        assert all(isinstance(b, float) and isinstance(n, int) for b, n in histogram["buckets"])
    assert metrics["near_cache"] is None
