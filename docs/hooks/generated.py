"""MkDocs hook: blocks of pages generated from the code when the site is built.

A page may contain these markers, each alone on a line:

``<!-- cli-help -->``
    The ``--help`` of ``hotspots`` and of every command of :data:`hotspots.cli.main`, in the
    group's order: a command added to the CLI appears at the next build.
``<!-- package-tree -->``
    Every module of the ``hotspots`` package, one line each with the first line of its
    docstring (read with :mod:`ast`, nothing imported): a module added appears at the next build.

Run ``python docs/hooks/generated.py cli-help`` (or ``package-tree``) to print a block.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "hotspots"
WIDTH = 100


def _help(command: Any, name: str, parent: Any) -> str:
    import click

    ctx = click.Context(command, info_name=name, parent=parent, max_content_width=WIDTH, terminal_width=WIDTH)
    return command.get_help(ctx)


def cli_help() -> str:
    """Markdown: the top-level help, then one section per command."""
    import click

    from hotspots.cli import main

    # with the group's own settings (-h as well as --help), as the CLI makes its contexts: click
    # keeps each command's help option from the first context it is asked with
    settings = {**main.context_settings, "max_content_width": WIDTH, "terminal_width": WIDTH}
    root = click.Context(main, info_name="hotspots", **settings)
    out = ["```text", main.get_help(root), "```", ""]
    for name in main.list_commands(root):
        command = main.get_command(root, name)
        if command is None or command.hidden:
            continue
        out += [f"### `hotspots {name}` {{#hotspots-{name}}}", "", "```text", _help(command, name, root), "```", ""]
    return "\n".join(out)


def _summary(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except SyntaxError:  # pragma: no cover - a module that does not parse fails the tests anyway
        doc = None
    first = " ".join((doc or "").strip().split("\n\n")[0].split())
    first = re.sub(r":(?:py:)?[a-z]+:`~?([^`]+)`", r"`\1`", first)
    return first.replace("``", "`") or "(no docstring)"


def package_tree() -> str:
    """Markdown: a table of every module of the package, folders first as in a file browser."""
    rows = ["| module | what it holds |", "|---|---|"]

    def walk(folder: Path, depth: int) -> None:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")) or p.name == "__init__.py")
        for path in [p for p in entries if p.suffix == ".py"]:
            if path.name == "__init__.py" and depth == 0:
                continue
            name = path.relative_to(PACKAGE).as_posix().removesuffix("__init__.py")
            text = _summary(path).replace("|", "\\|")
            rows.append(f"| `{name}` | {text} |")
        for path in [p for p in entries if p.is_dir() and (p / "__init__.py").exists()]:
            walk(path, depth + 1)

    walk(PACKAGE, 0)
    return "\n".join(rows) + "\n"


BLOCKS: dict[str, Callable[[], str]] = {"cli-help": cli_help, "package-tree": package_tree}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each marker with its generated block (MkDocs event)."""
    for name, make in BLOCKS.items():
        marker = f"<!-- {name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


if __name__ == "__main__":
    print(BLOCKS[sys.argv[1] if len(sys.argv) > 1 else "cli-help"]())
