"""Every public callable of rawS3 documents itself in Google style.

A docstring must exist; it must name every parameter under ``Args:``, say what comes back
under ``Returns:`` (or ``Yields:``), and have a ``Raises:`` section when the body raises.
Whether ``Raises:`` lists everything that can escape cannot be checked mechanically; that it
exists where the function itself raises can. Classes count as callables: a hand-written
``__init__`` is documented in the class docstring, and a dataclass names its fields under
``Attributes:``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import rawS3

MODULES = [rawS3] + [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(rawS3.__path__, prefix="rawS3.")
]
NO_RETURN = (inspect.Signature.empty, None, "None")


def section_names(doc: str, title: str) -> set[str] | None:
    """Return the names a Google-style section lists, or ``None`` if there is no section."""
    lines = inspect.cleandoc(doc).splitlines()
    for index, line in enumerate(lines):
        if line.strip() != f"{title}:":
            continue
        indent = len(line) - len(line.lstrip())
        names: set[str] = set()
        entry_indent: int | None = None
        for entry in lines[index + 1 :]:
            if not entry.strip():
                continue
            depth = len(entry) - len(entry.lstrip())
            if depth <= indent:
                break
            entry_indent = depth if entry_indent is None else entry_indent
            if depth == entry_indent:
                head = entry.strip().partition(":")[0]
                names.add(head.partition(" (")[0].lstrip("*"))
        return names
    return None


def has_section(doc: str, *titles: str) -> bool:
    return any(section_names(doc, title) is not None for title in titles)


def raises_directly(func: Callable[..., Any]) -> bool:
    """Tell whether the function's own body (not a nested function's) has a ``raise``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(func))))
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef)
    pending: list[ast.AST] = list(definition.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Raise):
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            pending.extend(ast.iter_child_nodes(node))
    return False


def parameters(func: Callable[..., Any], *, method: bool) -> list[str]:
    names = list(inspect.signature(func).parameters)
    return names[1:] if method and names and names[0] in ("self", "cls") else names


def function_problems(func: Callable[..., Any], *, method: bool) -> list[str]:
    doc = func.__doc__
    if not doc or not doc.strip():
        return ["no docstring"]
    problems = []
    wanted = parameters(func, method=method)
    listed = section_names(doc, "Args")
    if wanted and listed is None:
        problems.append(f"no Args: section for {wanted}")
    elif missing := [name for name in wanted if name not in (listed or set())]:
        problems.append(f"Args: does not name {missing}")
    returned = inspect.signature(func).return_annotation
    if returned not in NO_RETURN and not has_section(doc, "Returns", "Yields"):
        problems.append(f"returns {returned} but has no Returns: or Yields: section")
    if raises_directly(func) and not has_section(doc, "Raises"):
        problems.append("raises but has no Raises: section")
    return problems


def class_problems(cls: type) -> list[str]:
    doc = cls.__doc__
    if not doc or not doc.strip():
        return ["no docstring"]
    problems = []
    own = vars(cls)
    if dataclasses.is_dataclass(cls):
        fields = [f.name for f in dataclasses.fields(cls)]
        listed = section_names(doc, "Attributes")
        if listed is None:
            problems.append(f"a dataclass without an Attributes: section for {fields}")
        elif missing := [name for name in fields if name not in listed]:
            problems.append(f"Attributes: does not name {missing}")
    elif "__init__" in own:
        wanted = parameters(own["__init__"], method=True)
        listed = (section_names(doc, "Args") or set()) | (section_names(doc, "Attributes") or set())
        if missing := [name for name in wanted if name not in listed]:
            problems.append(f"the class docstring's Args: does not name {missing}")
    # A dataclass's generated __init__ has no source; its __post_init__ does.
    written = [
        own[name]
        for name in ("__init__", "__post_init__")
        if inspect.isfunction(own.get(name)) and own[name].__code__.co_filename != "<string>"
    ]
    if any(raises_directly(f) for f in written) and not has_section(doc, "Raises"):
        problems.append("its constructor raises but it has no Raises: section")
    return problems


def public_callables() -> Iterator[tuple[str, str, Any]]:
    """Yield ``(qualified name, kind, object)`` for every public callable defined in rawS3."""
    for module in MODULES:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            qualified = f"{module.__name__}.{name}"
            if inspect.isfunction(obj):
                yield qualified, "function", obj
            elif inspect.isclass(obj):
                yield qualified, "class", obj
                yield from public_members(qualified, obj)


def public_members(qualified: str, cls: type) -> Iterator[tuple[str, str, Any]]:
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, property):
            yield f"{qualified}.{name}", "property", attr
        elif isinstance(attr, staticmethod):
            yield f"{qualified}.{name}", "function", attr.__func__
        elif isinstance(attr, classmethod):
            yield f"{qualified}.{name}", "method", attr.__func__
        elif inspect.isfunction(attr):
            yield f"{qualified}.{name}", "method", attr


def problems_of(kind: str, obj: Any) -> list[str]:
    if kind == "class":
        return class_problems(obj)
    if kind == "property":
        return [] if obj.__doc__ and obj.__doc__.strip() else ["no docstring"]
    return function_problems(obj, method=kind == "method")


CALLABLES = sorted(public_callables(), key=lambda item: item[0])


@pytest.mark.parametrize(("name", "kind", "obj"), CALLABLES, ids=[c[0] for c in CALLABLES])
def test_public_callable_is_documented(name: str, kind: str, obj: Any) -> None:
    assert problems_of(kind, obj) == []


def test_the_walk_reaches_every_module_and_kind() -> None:
    names = {name for name, _, _ in CALLABLES}
    for expected in (
        "rawS3.client.S3Client",
        "rawS3.object_calls.ObjectCalls.put_object",
        "rawS3.object_calls.ObjectCalls.open_object",
        "rawS3.client.S3Client.region",
        "rawS3.streams.ObjectStream.iter_chunks",
        "rawS3.transfer.MultipartUploader.write",
        "rawS3.transfer.upload_stream",
        "rawS3.retry.RetryPolicy.backoff",
        "rawS3.cli.main",
        "rawS3.s3_errors.make_s3_error",
    ):
        assert expected in names
    walked = {obj.__module__ for _, kind, obj in CALLABLES if kind != "property"}
    # The probe's catalogue modules hold data (CHECKS); their check functions are private.
    catalogue = {m.__name__ for m in MODULES if m.__name__.startswith("rawS3.probe.checks.")}
    unwalked = {"rawS3.__main__", "rawS3.operations", "rawS3.probe", *catalogue}
    assert walked >= {m.__name__ for m in MODULES[1:]} - unwalked
    assert "rawS3.cli.parsing" in walked  # subpackages too


def test_every_exported_callable_is_walked() -> None:
    walked = {id(obj) for _, _, obj in CALLABLES}
    for name in rawS3.__all__:
        obj = getattr(rawS3, name)
        if callable(obj):
            assert id(obj) in walked, name


def test_the_checks_catch_what_they_promise() -> None:
    def bare(bucket: str) -> int:
        return 1

    def partial(bucket: str, key: str) -> int:
        """Do something.

        Args:
            bucket: the bucket.

        Returns:
            One.
        """
        raise ValueError(bucket + key)

    def nested(bucket: str) -> None:
        """Do something.

        Args:
            bucket: the bucket.
        """

        def inner() -> None:
            raise ValueError(bucket)

    class Undocumented:
        def __init__(self, size: int) -> None:
            """Not where the class's reader looks."""

    assert function_problems(bare, method=False) == ["no docstring"]
    assert function_problems(partial, method=False) == [
        "Args: does not name ['key']",
        "raises but has no Raises: section",
    ]
    assert function_problems(nested, method=False) == []
    bare.__doc__ = "Do something.\n\nArgs:\n    bucket: the bucket.\n"
    assert function_problems(bare, method=False) == [
        "returns int but has no Returns: or Yields: section"
    ]
    Undocumented.__doc__ = "A class."
    assert class_problems(Undocumented) == ["the class docstring's Args: does not name ['size']"]
