"""The user's own block library: one JSON file per block under the settings folder.

A file holds the block and every definition it uses (dependencies first), in the same
format as a project's `blocks` list, so a block saved from one project opens in any other.
Qt-free.
"""

from __future__ import annotations

import json
from pathlib import Path

from torchcanvas.graph.fileio import FileRefused, atomic_write, read_limited
from torchcanvas.graph.graphjson import MAX_NODES, LoadError, block_to_dict, load_blocks
from torchcanvas.graph.library import BlockDef, Library, uses
from torchcanvas.graph.model import GraphError
from torchcanvas.graph.naming import class_name_problem
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.project import VERSION

BLOCK_FORMAT = "torchcanvas-block"
MAX_BYTES = 5 * 1024 * 1024


class BlockFileError(ValueError):
    """A block file that cannot be read; the message names the file and the fault."""


def blocks_folder(home: Path) -> Path:
    """Where the user's blocks live."""
    return Path(home) / "blocks"


def needed(library: Library, name: str) -> list[str]:
    """`name` and every definition it uses, directly or not, dependencies first."""
    wanted, todo = {name}, [name]
    while todo:
        for used in uses(library.get(todo.pop()).graph, library):
            if used not in wanted:
                wanted.add(used)
                todo.append(used)
    return [n for n in library.order() if n in wanted]


def save_block(library: Library, name: str, folder: Path) -> Path:
    """Write definition `name` (with what it uses) to `folder/name.json`, atomically."""
    if class_name_problem(name) or name not in library:
        raise BlockFileError(f"there is no block called {name!r} in this project")
    document = {
        "format": BLOCK_FORMAT,
        "version": VERSION,
        "name": name,
        "blocks": [block_to_dict(library.get(n)) for n in needed(library, name)],
    }
    path = Path(folder) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
    return path


def read_block_file(path: Path) -> list[BlockDef]:
    """The definitions in a block file, dependencies first (the block itself last)."""
    path = Path(path)
    try:
        document = json.loads(read_limited(path, MAX_BYTES, "block file").decode("utf-8"))
    except FileRefused as error:
        raise BlockFileError(str(error)) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BlockFileError(f"{path.name}: cannot be read ({error})") from None
    if not isinstance(document, dict) or document.get("format") != BLOCK_FORMAT:
        raise BlockFileError(f"{path.name}: not a TorchCanvas block file")
    version = document.get("version")
    if not isinstance(version, int) or not 3 <= version <= VERSION:
        raise BlockFileError(f"{path.name}: format version {version!r} is not one this reads")
    library = Library()
    try:
        load_blocks(document.get("blocks"), library, [MAX_NODES])
    except (LoadError, GraphError, ParamError) as error:
        raise BlockFileError(f"{path.name}: {error}") from None
    name = document.get("name")
    if name not in library:
        raise BlockFileError(f"{path.name}: the file does not define {name!r}")
    return [library.get(n) for n in needed(library, name)]


def user_blocks(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The blocks in the user's folder (name -> file), and a message per unreadable file."""
    found, problems = {}, []
    folder = Path(folder)
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*.json")):
        try:
            blocks = read_block_file(path)
        except BlockFileError as error:
            problems.append(str(error))
            continue
        found[blocks[-1].name] = path
    return found, problems


def adopt(blocks: list[BlockDef], library: Library) -> list[BlockDef]:
    """The definitions of `blocks` that `library` lacks, moved over to it (not yet added)."""
    fresh = [b for b in blocks if b.name not in library]
    for block in fresh:
        block.graph.library = library
    return fresh
