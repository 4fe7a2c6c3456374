"""Blocks that use themselves, use each other, or nest too deep: refused with the real cause."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from torchcanvas.app.editing import Document
from torchcanvas.graph.blockbuild import Builder
from torchcanvas.graph.library import Library
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import ProjectError, load_project

SHAPE = [4]


def definition(name: str, uses: str | None = None, in_sequential: bool = False) -> dict:
    """A block: input -> [an instance of `uses`, maybe inside a Sequential] -> output."""
    nodes = [{"id": "i", "name": "inp", "type": "Input", "params": {"shape": SHAPE}}]
    edges, last = [], "i"
    if uses and in_sequential:
        body = {
            "nodes": [
                {"id": "bi", "name": "inp", "type": "Input", "params": {"shape": SHAPE}},
                {"id": "ba", "name": "inner", "type": uses, "params": {}},
                {"id": "bo", "name": "out", "type": "Output", "params": {}},
            ],
            "edges": [{"from": "bi", "to": "ba"}, {"from": "ba", "to": "bo"}],
        }
        nodes.append({"id": "s", "name": "seq", "type": "Sequential", "params": {}, "body": body})
        edges.append({"from": "i", "to": "s"})
        last = "s"
    elif uses:
        nodes.append({"id": "a", "name": "inner", "type": uses, "params": {}})
        edges.append({"from": "i", "to": "a"})
        last = "a"
    else:
        nodes.append({"id": "a", "name": "fc", "type": "Linear", "params": {"out_features": 4}})
        edges.append({"from": "i", "to": "a"})
        last = "a"
    nodes.append({"id": "o", "name": "out", "type": "Output", "params": {}})
    edges.append({"from": last, "to": "o"})
    return {"name": name, "params": [], "nodes": nodes, "edges": edges}


def project(blocks: list[dict], top: str) -> dict:
    """A project whose model is input -> an instance of `top` -> output."""
    return {
        "format": "torchcanvas",
        "version": 3,
        "name": "Net",
        "blocks": blocks,
        "nodes": [
            {"id": "i", "name": "inp", "type": "Input", "params": {"shape": SHAPE}},
            {"id": "b", "name": "b", "type": top, "params": {}},
            {"id": "o", "name": "out", "type": "Output", "params": {}},
        ],
        "edges": [{"from": "i", "to": "b"}, {"from": "b", "to": "o"}],
    }


def chain(levels: int) -> list[dict]:
    """D1 uses D2 ... uses D<levels>, the deepest written first (as the app saves them)."""
    names = [f"D{k}" for k in range(1, levels + 1)]
    return [definition(n, names[k + 1] if k + 1 < levels else None) for k, n in enumerate(names)][
        ::-1
    ]


REFUSED = {
    "deep": (
        project(chain(33), "D1"),
        "blocks: D1 → D2 → D3 → D4 → … → D32 → D33: blocks nest 33 levels deep; "
        "at most 32 are allowed",
    ),
    "cycle": (
        project([definition("A", "B"), definition("B", "A")], "A"),
        "blocks: A → B → A: these blocks use each other in a cycle; "
        "a block cannot be used inside itself",
    ),
    "self_in_sequential": (
        project([definition("A", "A", in_sequential=True)], "A"),
        "blocks: A uses itself; a block cannot be used inside itself",
    ),
    "long_cycle": (
        project([definition("A", "B"), definition("B", "C"), definition("C", "A")], "A"),
        "blocks: A → B → C → A: these blocks use each other in a cycle; "
        "a block cannot be used inside itself",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_project_file_with_bad_nesting_is_refused_with_the_cause(case, tmp_path):
    document, message = REFUSED[case]
    path = tmp_path / f"{case}.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectError) as refused:
        load_project(path)
    assert str(refused.value) == f"{case}.json: {message}"


def _at_most_6_gb() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


@pytest.mark.parametrize("case", ["deep", "cycle", "self_in_sequential"])
def test_check_prints_the_cause_in_one_line_and_exits_2(case, tmp_path):
    document, message = REFUSED[case]
    path = tmp_path / f"{case}.json"
    path.write_text(json.dumps(document))
    ran = subprocess.run(
        [sys.executable, "-m", "torchcanvas.app", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        preexec_fn=_at_most_6_gb,  # refused before anything is expanded: no memory to speak of
    )
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [f"error: {case}.json: {message}"]
    assert ran.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{case}.json"]


def test_32_levels_load_and_analyse_and_blocks_may_come_in_any_order(tmp_path):
    path = tmp_path / "deep.json"
    document = project(chain(32)[::-1], "D1")  # D1 first: it uses a block written after it
    path.write_text(json.dumps(document))
    loaded = load_project(path)
    assert loaded.model.analysis().errors == []
    assert loaded.library.order() == [f"D{k}" for k in range(32, 0, -1)]


def built(library: Library, name: str, inner: str) -> None:
    """Add block `name` (input -> one `inner` -> output) to `library`."""
    body = Builder(name, library, tuple(SHAPE))
    body.node(inner, "inner", {"out_features": 4} if inner == "Linear" else {})
    body.output()
    library.add(body.build(()))


def problems_of(library: Library, top: str) -> list[str]:
    """The problems of a model that is input -> `top` -> output."""
    model = ModelGraph("Net", library)
    x, block, out = model.add_node("Input", params={"shape": SHAPE}), model.add_node(top, "b"), None
    out = model.add_node("Output")
    model.connect(x, block)
    model.connect(block, out)
    return [str(p) for p in model.analysis().problems]


def test_a_cycle_made_in_code_is_a_problem_naming_the_cycle():
    library = Library()
    built(library, "B", "Linear")
    built(library, "A", "B")
    body = library.get("B").graph
    body.remove_node(body.id_of("inner"))
    again = body.add_node("A", "inner")
    body.connect(body.id_of("input"), again)
    body.connect(again, body.id_of("output"))
    assert problems_of(library, "A") == [
        "b.inner.inner: A → B → A: these blocks use each other in a cycle; "
        "a block cannot be used inside itself"
    ]


def test_a_chain_too_deep_made_in_code_is_a_problem_naming_the_depth():
    library = Library()
    built(library, "D33", "Linear")
    for level in range(32, 0, -1):
        built(library, f"D{level}", f"D{level + 1}")
    where = ".".join(["b"] + ["inner"] * 32)
    assert problems_of(library, "D1") == [
        f"{where}: D1 → D2 → D3 → D4 → … → D32 → D33: blocks nest 33 levels deep; "
        f"at most 32 are allowed"
    ]


def test_placing_a_block_that_uses_the_open_definition_is_refused(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps(project([definition("B"), definition("A", "B")], "A")))
    document = Document(home=tmp_path / "home")
    document.open(path)
    assert document.navigator.open_definition("B")
    before = len(document.graph.nodes())
    assert document.add_node("A", (0, 0)) == (
        "B → A → B: these blocks use each other in a cycle; a block cannot be used inside itself"
    )
    assert document.add_node("B", (0, 0)) == ("B uses itself; a block cannot be used inside itself")
    assert len(document.graph.nodes()) == before
    assert not document.undo.can_undo()
