"""Copying nodes as JSON text and pasting them back, as one undoable step."""

from __future__ import annotations

import json

from torchcanvas.app.editing import commands as cmd
from torchcanvas.app.editing.lock import refused_while_locked
from torchcanvas.graph.graphjson import node_to_dict
from torchcanvas.graph.model import GraphError

CLIP_FORMAT = "torchcanvas-nodes"


class ClipboardEdits:
    """Mixed into Document: the nodes of `graph` to text and back."""

    def copy_data(self, nodes: list[str]) -> str:
        """Selected nodes and the edges among them, as JSON text."""
        chosen = [n for n in self.graph.nodes() if n in set(nodes)]
        items = [node_to_dict(self.graph, n) for n in chosen]
        edges = [
            {"from": e.src, "from_port": e.src_port, "to": e.dst, "to_port": e.dst_port}
            for e in self.graph.edges()
            if e.src in chosen and e.dst in chosen
        ]
        return json.dumps({"format": CLIP_FORMAT, "nodes": items, "edges": edges})

    @refused_while_locked
    def paste(self, text: str, offset=(40.0, 40.0)) -> list[str] | str:
        """Paste copied nodes; returns their new ids, or an error message."""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict)
            or data.get("format") != CLIP_FORMAT
            or not isinstance(data.get("nodes"), list)
            or not data["nodes"]
        ):
            return "The clipboard holds no TorchCanvas nodes."
        edges = data.get("edges", [])
        # A dry run on a copy: the model's own checks judge the text, and nothing reaches
        # the graph half-done.
        trial = self.graph.copy()
        try:
            cmd.PasteCommand(trial, data["nodes"], edges, offset).redo()
        except (GraphError, KeyError, TypeError, IndexError, ValueError, AttributeError) as error:
            return f"Cannot paste: {error}"
        command = cmd.PasteCommand(self.graph, data["nodes"], edges, offset)
        self.undo.push(command)
        return list(command.ids.values())
