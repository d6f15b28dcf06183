"""MkDocs hook: the configuration reference (``config.md``), generated from the code.

Every section of :data:`hotspots.config.SECTIONS` and every table nested in one (the
``columns`` mapping of ``[[crime]]`` and ``[venues]``, the ``[sites]`` point files, ...)
becomes a table of keys with their TOML type, default and description. The description is
the key's entry in the dataclass's numpydoc ``Attributes`` section (an entry may name
several keys: ``start, end``), or the docstring written under the field. Nothing here is
typed by hand, so the page cannot drift from the code: a key added to a dataclass appears
at the next build, and ``tests/test_docs.py`` checks every key is on the built page with a
description.

Run ``python docs/hooks/config_reference.py`` to print the page.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import re
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

PAGE = "config.md"
"""Where the generated page goes in the site (docs/ has no such file)."""

ROOT = Path(__file__).resolve().parents[2]

_SECTION_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.MULTILINE)
_ROLE = re.compile(r":(?:py:)?(?:data|func|class|mod|meth|attr|obj|exc|const):`~?([^`]+)`")


# --------------------------------------------------------------------------------------
# reading the dataclasses
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Key:
    """One config key: name, TOML type, default (as TOML) and description (Markdown)."""

    name: str
    type: str
    default: str
    required: bool
    description: str
    group: tuple[str, ...]
    """The keys documented together with this one (itself included), in field order."""
    nested: type | None
    """The dataclass of a nested table, if the key holds one."""


def _rst_to_md(text: str) -> str:
    """Sphinx roles and reST literals as Markdown code spans."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1] if m.group(0).count('~') else m.group(1)}`", text)
    return text.replace("``", "`")


def _doc_sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a numpydoc docstring into its text before the first section and its sections."""
    parts = _SECTION_HEADER.split(doc)
    intro, rest = parts[0], parts[1:]
    return intro.strip(), {rest[i].strip(): rest[i + 1] for i in range(0, len(rest), 2)}


def _attributes(cls: type) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{key: (description, group)}`` from the ``Attributes`` section and field docstrings."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    _, sections = _doc_sections(inspect.getdoc(cls) or "")
    names: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        if names:
            text = " ".join(line.strip() for line in lines if line.strip())
            for n in names:
                out[n] = (text, tuple(names))

    for line in sections.get("Attributes", "").splitlines():
        if line and not line[0].isspace():
            flush()
            names = [n.strip() for n in line.split(":")[0].split(",") if n.strip()]
            lines = []
        else:
            lines.append(line)
    flush()
    # a docstring written under a field ("snapshot: str | None = None" then """...""")
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # pragma: no cover - classes without source
        return out
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node, nxt in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
            and node.target.id not in out
        ):
            out[node.target.id] = (" ".join(inspect.cleandoc(nxt.value.value).split()), (node.target.id,))
    return out


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return (rest[0] if len(rest) == 1 else typing.Union[rest]), True  # noqa: UP007
    return tp, False


_PLURAL = {"string": "strings", "number": "numbers", "whole number": "whole numbers", "path": "paths"}


def _type_name(tp: Any) -> str:
    """The TOML type a reader writes, in words."""
    tp, _ = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(tp)]
        return " or ".join(dict.fromkeys(names))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        item = _type_name(args[0]) if args else "value"
        return f"list of {_PLURAL.get(item, item)}"
    if origin is dict:
        _, vtype = typing.get_args(tp) or (str, Any)
        item = _type_name(vtype)
        return f"table of {_PLURAL.get(item, item)}"
    if dataclasses.is_dataclass(tp):
        return "table"
    return {str: "string", int: "whole number", float: "number", bool: "true or false", Path: "path"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _nested(tp: Any) -> type | None:
    """The dataclass of a nested table held by a key of type ``tp``, if any."""
    tp, _ = _strip_optional(tp)
    candidates = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    for arg in candidates:
        if isinstance(arg, type) and dataclasses.is_dataclass(arg):
            return arg
    return None


def toml_value(value: Any) -> str:  # noqa: PLR0911 - one return per TOML type reads best
    """A default value as it would be written in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        return toml_value(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        set_ = {
            f.name: getattr(value, f.name)
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None and not f.metadata.get("internal")
        }
        return toml_value(set_)
    return str(value)


def _default(f: dataclasses.Field[Any]) -> tuple[str, bool]:
    if f.default is not dataclasses.MISSING:
        return ("unset" if f.default is None else toml_value(f.default)), False
    if f.default_factory is not dataclasses.MISSING:
        return toml_value(f.default_factory()), False
    return "required", True


def config_keys(cls: type) -> list[Key]:
    """The keys of one config dataclass, in field order (internal fields left out)."""
    hints = typing.get_type_hints(cls)
    docs = _attributes(cls)
    keys = []
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("internal"):
            continue
        default, required = _default(f)
        description, group = docs.get(f.name, ("", (f.name,)))
        keys.append(
            Key(
                name=f.name,
                type=_type_name(hints[f.name]),
                default=default,
                required=required,
                description=_rst_to_md(description),
                group=tuple(g for g in group if g in {x.name for x in dataclasses.fields(cls)}) or (f.name,),
                nested=_nested(hints[f.name]),
            )
        )
    return keys


def sections() -> list[tuple[str, type, bool]]:
    """``(name, dataclass, is_array_of_tables)`` for every section of the config file, in order."""
    from hotspots import config as cfg

    hints = typing.get_type_hints(cfg.Config)
    out = []
    for name, cls in cfg.SECTIONS.items():
        tp, _ = _strip_optional(hints.get(name, cls))
        out.append((name, cls, typing.get_origin(tp) in (list, tuple)))
    return out


# --------------------------------------------------------------------------------------
# writing the page
# --------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(cls: type, anchors: dict[type, str]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    done: set[str] = set()
    keys = config_keys(cls)
    by_name = {k.name: k for k in keys}
    for key in keys:
        if key.name in done:
            continue
        group = [by_name[n] for n in key.group if n in by_name and n not in done] or [key]
        done.update(k.name for k in group)
        names = "<br>".join(f"`{k.name}`" for k in group)
        kinds = []
        for k in group:
            kind = k.type
            if k.nested is not None and k.nested in anchors:
                kind += f" ([keys](#{anchors[k.nested]}))"
            kinds.append(kind)
        defaults = "<br>".join(
            "**required**" if k.required else ("unset" if k.default == "unset" else f"`{k.default}`") for k in group
        )
        rows.append(f"| {names} | {_cell('<br>'.join(kinds))} | {_cell(defaults)} | {_cell(key.description)} |")
    return rows


def _intro(cls: type) -> str:
    intro, _ = _doc_sections(inspect.getdoc(cls) or "")
    # the summary line repeats the section name ("``[detect]``: hot spot detection."): keep the rest
    summary, _, rest = intro.partition("\n")
    summary = re.sub(r"^(One )?``\[+\w+\]+``( entry)?:\s*", "", summary).strip()
    text = (summary[:1].upper() + summary[1:] + ("\n" + rest if rest else "")).strip()
    return _rst_to_md(text)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def render() -> str:
    """The Markdown of the configuration reference."""
    from hotspots import config as cfg

    secs = sections()
    # nested tables: where each is used, and one anchor each
    used: dict[type, list[str]] = {}
    for name, cls, many in secs:
        label = f"[[{name}]]" if many else f"[{name}]"
        for key in config_keys(cls):
            if key.nested is not None:
                used.setdefault(key.nested, []).append(f"`{label} {key.name}`")
    anchors = {t: _slug(t.__name__) for t in used}

    required = [f"`[[{s}]]`" if many else f"`[{s}]`" for s, _, many in secs if s in cfg.REQUIRED_SECTIONS]
    out = [
        "# Configuration reference",
        "",
        "<!-- generated by docs/hooks/config_reference.py from hotspots.config.SECTIONS: do not edit -->",
        "",
        "Everything hotspots reads is named in one TOML file (`hotspots run --config FILE`; without",
        "`--config`, the bundled `data/nottinghamshire.toml`). This page is generated from the",
        "configuration dataclasses when the site is built, so it lists exactly the keys the code",
        "accepts, with their defaults.",
        "",
        "- Paths are relative to the config file, not to the folder you run from.",
        "- An unknown section or key is an error that names it, suggests the closest valid key and",
        "  lists the valid ones, so a typo never falls back to a default silently.",
        "- A wrong type or value is an error naming the section and key and saying what is allowed.",
        f"- Required sections: {', '.join(required)}.",
        "  The stage sections "
        + ", ".join(f"`[{s}]`" for s in cfg.STAGE_SECTIONS)
        + " may be left out: every key takes its default.",
        "",
    ]
    moved = getattr(cfg, "MOVED_KEYS", {})
    if moved:
        out += ["Keys of earlier versions that now live elsewhere (using one is an error that says where):", ""]
        out += [f"- `[{s}] {k}`: now `{where}`" for (s, k), where in moved.items()]
        out.append("")
    out += ["| section | what it configures |", "|---|---|"]
    for name, cls, many in secs:
        label = f"[[{name}]]" if many else f"[{name}]"
        summary = _intro(cls).split("\n")[0]
        out.append(f"| [`{label}`](#{name}) | {_cell(summary)} |")
    out.append("")

    written: set[type] = set()
    for name, cls, many in secs:
        label = f"[[{name}]]" if many else f"[{name}]"
        required = name in cfg.REQUIRED_SECTIONS
        note = " (required)" if required else ""
        if many:
            note = " (required: one table or more)" if required else " (one table or more)"
        out += [f"## `{label}`{note} {{#{name}}}", "", _intro(cls), "", *_table(cls, anchors), ""]
        for key in config_keys(cls):
            nested = key.nested
            if nested is None or nested in written:
                continue
            written.add(nested)
            intro = _intro(nested)
            title = re.split(r"[:.]", intro)[0].strip()
            rest = intro[len(title) :].lstrip(":. ")
            out += [
                f"### {title} {{#{anchors[nested]}}}",
                "",
                f"The keys of {', '.join(used[nested])}. {rest[:1].upper() + rest[1:]}".strip(),
                "",
                *_table(nested, anchors),
                "",
            ]

    example = Path(cfg.DEFAULT_CONFIG)
    if example.exists():
        rel = example.relative_to(ROOT) if example.is_relative_to(ROOT) else example.name
        out += [
            "## A complete example {#example}",
            "",
            f"The bundled configuration, `{rel}`, which `hotspots run` uses without `--config`:",
            "",
            "```toml",
            example.read_text(encoding="utf-8").rstrip(),
            "```",
            "",
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# MkDocs events
# --------------------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """Rebuild on ``mkdocs serve`` when the package changes."""
    config.watch.append(str(ROOT / "hotspots"))
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated page to the site."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=render()))
    return files


if __name__ == "__main__":
    print(render())
