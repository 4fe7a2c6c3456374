"""What a set of weights was trained on: the generated class, and what changed since.

The emitted source is the design as far as weights are concerned: names, layer types and
sizes and the forward pass are in it, card positions are not. Comparing two sources says
in a user's words what differs ("conv1: nn.Conv2d(1, 16, ...) is now nn.Conv2d(1, 8, ...)").

Designs are compared by their syntax tree, never their layout, so that a new ruff (or a
new layout rule) does not turn every saved checkpoint into "a different graph".
Checkpoints written before that stored the sha256 of the text as it was then laid out;
`same_design` still recognises them (see there).
"""

from __future__ import annotations

import ast
import hashlib

from torchcanvas.codegen.emit import emit_module

SHOWN = 5  # changes listed; the rest are counted
_SPLIT = "split"  # marks a design hash whose source has statements over several lines


def design_source(model) -> str:
    """The generated source of `model` (CodegenError when it has problems)."""
    return emit_module(model).source


def canonical(source: str) -> str:
    """The source's syntax tree as text: the same for any layout of the same code, and
    without the training flags (frozen layers, lr_scales): changing those is a change of
    the run's settings, not of the design the weights belong to."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            node.body = [s for s in node.body if not _training_flag(s)] or [ast.Pass()]
    return ast.dump(tree)


def _training_flag(statement: ast.stmt) -> bool:
    """`self.lr_scales = {...}`, `self.keep_frozen = True`, `self.x.requires_grad_(False)`
    or the frozen layers' train()."""
    if isinstance(statement, ast.Assign):
        return any(
            isinstance(t, ast.Attribute) and t.attr in ("lr_scales", "keep_frozen")
            for t in statement.targets
        )
    if isinstance(statement, ast.FunctionDef):
        return statement.name == "train"
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "requires_grad_"
    )


def fingerprint(source: str) -> str:
    """A short stable hash of a generated source, whatever its layout."""
    return _short(canonical(source))


def text_fingerprint(source: str) -> str:
    """The hash checkpoints stored before fingerprint(): of the text, layout included."""
    return _short(source)


def design_hash(source: str) -> str:
    """What a checkpoint stores for the design: `fingerprint:text_fingerprint`, and a
    `:split` mark when some statement spans lines (see same_design)."""
    parts = [fingerprint(source), text_fingerprint(source)]
    if any(line.endswith(("(", "[", "{")) for line in source.splitlines()):
        parts.append(_SPLIT)
    return ":".join(parts)


def same_design(stored: object, current: str) -> bool:
    """Whether a checkpoint's stored design hash fits the design hashed as `current`.

    Stored by this version: the syntax trees must be equal. Stored before (a bare text
    hash): the text must be equal, as it is whenever that version laid the code out as
    ruff does. Only where a statement spans lines could its own layout have differed;
    such a checkpoint is let through here, and resuming it still requires every tensor
    to fit the design by name and shape.
    """
    if not isinstance(stored, str):
        return False
    tree, _, rest = current.partition(":")
    text, _, mark = rest.partition(":")
    if ":" in stored:
        return stored.partition(":")[0] == tree
    return stored in (text, tree) or mark == _SPLIT


def design_changes(old: str, new: str) -> list[str]:
    """What differs between the design `old` was generated from and `new`'s, in lines a
    user can act on (empty: the same design)."""
    if old == new or canonical(old) == canonical(new):
        return []
    before, after = _modules(old), _modules(new)
    changes = [
        f"{name}: {before[name]} is now {after[name]}"
        for name in before
        if name in after and before[name] != after[name]
    ]
    changes += [f"{name} added ({after[name]})" for name in after if name not in before]
    changes += [f"{name} removed" for name in before if name not in after]
    if not changes:
        changes = ["the forward pass changed (connections or operations)"]
    if len(changes) > SHOWN:
        changes = changes[:SHOWN] + [f"and {len(changes) - SHOWN} more"]
    return changes


def _modules(source: str) -> dict[str, str]:
    """`self.name = expression` statements, by name, each on one line whatever the layout
    (in source order: the first class that sets a name wins)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                found.append((node.lineno, target.attr, ast.unparse(node.value)))
    named: dict[str, str] = {}
    for _, name, text in sorted(found):
        named.setdefault(name, text)
    return named


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
