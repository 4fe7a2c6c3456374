"""forward() the way a person writes it: a chain reuses `x`, branches get their own names.

- A node whose input dies with it continues that input's variable (`x = self.relu(x)`).
- A value that forks into several chains gives each chain a variable named after its
  first node (`branch1 = self.branch1(x)`); a merge continues the trunk in `x` again.
- A value that forks into one chain and skip connections is kept as `identity = x`, as in
  torchvision's ResNet, and the chain goes on in `x`.
- Extra outputs are named after their port (`h_n`); unused ones are unpacked into `_`.
"""

from __future__ import annotations

from torchcanvas.codegen.pyformat import INDENT
from torchcanvas.graph.expr import Call, TupleOf, Unpack
from torchcanvas.graph.naming import Namespace
from torchcanvas.graph.registry import FUNCTION, INPUT, OUTPUT, PARAMETER

BODY = INDENT * 2


class ForwardWriter:
    """Writes the statements of forward() for the live nodes of an analysed graph."""

    def __init__(self, model, analysis, reserved: set[str]) -> None:
        self.model, self.analysis = model, analysis
        self.names = analysis.names
        self.order = [n for n in analysis.order if n in analysis.live]
        self.space = Namespace(reserved)  # the variables: held while their values live
        self.var: dict[tuple[str, str], str] = {}
        self.remaining: dict[tuple[str, str], int] = {}  # value -> reads still to come
        self.pinned: set[tuple[str, str]] = set()  # values returned at the end
        self.consumers: dict[tuple[str, str], list[str]] = {}
        self.kinds: dict[str, str] = {"x": "trunk"}
        self._merges: dict[str, bool] = {}
        self._rejoins: dict[str, str | None] = {}
        # Per value and per name base, worked out once: a value read by n nodes, or n
        # variables called `h_n`, must not cost n steps each time (quadratic codegen).
        self._chain_cache: dict[tuple[str, str], list[str]] = {}
        self._adds: dict[tuple[str, str], bool] = {}
        self.live = set(self.order)
        self.statements: list[tuple[str, list[str]]] = []
        self.imports: set[str] = set()
        self.arguments = self._arguments()
        self._count_reads()

    # ----- set-up -------------------------------------------------------------------
    def _arguments(self) -> list[str]:
        inputs = self.analysis.inputs
        if len(inputs) == 1:
            return ["x"]
        return [self.names[n] for n in inputs]

    def _count_reads(self) -> None:
        live = set(self.order)
        for node in self.order:
            for edge in self.model.inputs(node):
                value = (edge.src, edge.src_port)
                if self.model.spec(node).kind == OUTPUT:
                    self.pinned.add(value)
                elif node in live:
                    self.remaining[value] = self.remaining.get(value, 0) + 1
                    self.consumers.setdefault(value, []).append(node)

    # ----- writing ------------------------------------------------------------------
    def run(self) -> list[tuple[str, list[str]]]:
        """(node id, lines) for every statement, then the return statement."""
        for node, argument in zip(self.analysis.inputs, self.arguments):
            self._hold((node, "output"), argument, "trunk" if argument == "x" else "argument")
        for node in self.order:
            kind = self.model.spec(node).kind
            if kind == PARAMETER:
                self._hold((node, "output"), f"self.{self.names[node]}")
            elif kind not in (INPUT, OUTPUT):
                self._statement(node)
        returned = [self._value_of(out) for out in self.analysis.outputs]
        if returned:
            outputs = self.analysis.outputs
            self.statements.append((outputs[0], [f"{BODY}return {', '.join(returned)}"]))
        return self.statements

    def _value_of(self, output: str) -> str:
        edge = self.model.inputs(output)[0]
        return self.var[(edge.src, edge.src_port)]

    def _statement(self, node: str) -> None:
        spec = self.model.spec(node)
        facts = self.analysis.facts[node]
        edges = self.model.inputs(node)
        values = {e.dst_port: self.var[(e.src, e.src_port)] for e in edges}
        ports = self.model.output_ports(node)
        used = [p for p in ports if self.remaining.get((node, p)) or (node, p) in self.pinned]
        lines: list[str] = []
        targets = self._targets(node, spec, edges, ports, used, lines)
        when = self.model.when(node)
        indent = BODY + INDENT if when is not None else BODY
        target = _target_text(spec, ports, targets)
        name = self.names[node]
        called = is_call(spec, facts.args)
        if (spec.call_args or called) and when is None:
            values = self._inlined(node, edges, values)
        if spec.loop:
            body = _loop(indent, name, values.get("input", ""), target)
        elif spec.kind == FUNCTION:
            self.imports.update(spec.imports)
            body = [f"{indent}{target} = {spec.expr(values, facts.args, facts.inputs, set(used))}"]
        elif called:
            if spec.function.startswith("F."):
                self.imports.add(FUNCTIONAL_IMPORT)
            raw = self.model.params(node)
            body = [f"{indent}{target} = {function_call(spec, values['input'], facts.args, raw)}"]
        else:
            body = [f"{indent}{target} = {_module_call(spec, f'self.{name}', values, set(used))}"]
        if when is not None:
            # Where the condition is false, the node passes its first input on.
            first = values.get(edges[0].dst_port) if edges else None
            if first is not None and target != first:
                lines.append(f"{BODY}{target} = {first}")
            test = (
                f"self.use_{name}"
                if spec.kind == FUNCTION or called
                else f"self.{name} is not None"
            )
            lines.append(f"{BODY}if {test}:")
        self.statements.append((node, lines + body))
        for port, name in targets.items():
            self._hold((node, port), name)

    def _inlined(self, node: str, edges, values: dict) -> dict:
        """A one-use constant op written just before (`mul = 0.5 * logvar`) moves into this
        call's argument, as people write it: `std = torch.exp(0.5 * logvar)`."""
        if not self.statements:
            return values
        source, lines = self.statements[-1]
        if len(lines) != 1 or not self.model.spec(source).inline:
            return values
        for edge in edges:
            value = (edge.src, edge.src_port)
            head = f"{BODY}{self.var[value]} = "
            if (
                edge.src == source
                and self.consumers.get(value) == [node]
                and value not in self.pinned
                and lines[0].startswith(head)
            ):
                self.statements.pop()
                return {**values, edge.dst_port: lines[0][len(head) :]}
        return values

    # ----- choosing variable names --------------------------------------------------
    def _targets(self, node: str, spec, edges, ports, used: list[str], lines: list[str]) -> dict:
        dying = self._read(edges)
        first = ports[0]
        targets = {}
        for port in used:
            if port == first:
                targets[port] = self._primary(node, spec, edges, dying, lines)
            elif port.isdigit():
                targets[port] = self._fresh(f"{self.names[node]}_{port}", "branch")
            else:
                targets[port] = self._fresh(spec.output_port(port).short, "special")
        return targets

    def _read(self, edges) -> list[str]:
        """Count this node's reads; returns the variables whose values die here, in order."""
        dying = []
        for edge in edges:
            value = (edge.src, edge.src_port)
            self.remaining[value] -= 1
            if self.remaining[value] == 0 and value not in self.pinned:
                self.space.release(self.var[value])
                if not self.var[value].startswith("self."):
                    dying.append(self.var[value])
        return dying

    def _primary(self, node: str, spec, edges, dying: list[str], lines: list[str]) -> str:
        data = {
            (e.src, e.src_port)
            for e in edges
            if not self.var[(e.src, e.src_port)].startswith("self.")
        }
        if spec.merge and len(data) > 1:
            if "x" in dying or self.space.free("x"):
                return "x"
            return self._fresh(self.names[node], "branch")
        if not edges:
            return self._fresh(self.names[node], "branch")
        value = (edges[0].src, edges[0].src_port)
        name = self.var[value]
        if name in dying:
            kind = self.kinds.get(name)
            if kind == "branch" or (kind == "trunk" and len(self._chains(value)) < 2):
                return name  # the chain goes on in its variable
            if kind == "trunk" or not self.space.free("x"):
                return self._fresh(self.names[node], "branch")  # one of several branches
            return "x"
        if name == "x" and self._keeps_skip(node, value):
            keep = self._fresh("identity", "branch")
            lines.append(f"{BODY}{keep} = x")
            self.space.release("x")
            self._hold(value, keep)
            return "x"
        return self._fresh(self.names[node], "branch")

    def _keeps_skip(self, node: str, value) -> bool:
        """The trunk goes on through `node`; the value's other readers are residual Adds.

        Either they are Adds, or there is one other chain and it rejoins this one at an Add
        (a ResNet shortcut with a projection). Other merges (a gate, a concatenation) give
        the chain its own name instead: `x = x * scale`.
        """
        if value in self.pinned or not self._feeds_add(value):
            return False
        chains = self._chains(value)
        if chains == [node]:
            return True
        return (
            len(chains) == 2
            and chains[0] == node
            and self._rejoin(chains[0]) == self._rejoin(chains[1]) is not None
        )

    def _chains(self, value) -> list[str]:
        """The readers of `value` that start a chain (not merges), in execution order."""
        found = self._chain_cache.get(value)
        if found is None:
            readers = dict.fromkeys(self.consumers.get(value, []))  # read twice: once
            found = self._chain_cache[value] = [n for n in readers if not self._is_merge(n)]
        return found

    def _is_merge(self, node: str) -> bool:
        """A merge node, or any node that joins values from several places (attention)."""
        found = self._merges.get(node)
        if found is None:
            sources = {
                (e.src, e.src_port)
                for e in self.model.inputs(node)
                if self.model.spec(e.src).kind != PARAMETER
            }
            found = self.model.spec(node).merge or len(sources) > 1
            self._merges[node] = found
        return found

    def _rejoin(self, node: str) -> str | None:
        """The merge a single-file chain starting at `node` runs into, if any."""
        if node not in self._rejoins:
            self._rejoins[node] = self._walk_to_merge(node)
        return self._rejoins[node]

    def _walk_to_merge(self, node: str, limit: int = 64) -> str | None:
        for _ in range(limit):
            if self._is_merge(node):
                return node
            readers = {e.dst for e in self.model.outputs(node) if e.dst in self.live}
            if len(readers) != 1:
                return None
            node = readers.pop()
        return None

    def _feeds_add(self, value) -> bool:
        found = self._adds.get(value)
        if found is None:
            readers = self.consumers.get(value, [])
            found = any(self.model.spec(self._rejoin(n) or n).residual_join for n in readers)
            self._adds[value] = found
        return found

    def _hold(self, value, name: str, kind: str | None = None) -> None:
        self.var[value] = name
        if kind:
            self.kinds[name] = kind
        if self.remaining.get(value, 0) > 0 or value in self.pinned:
            self.space.hold(name)

    def _fresh(self, wanted: str, kind: str) -> str:
        """A variable name based on `wanted` that no live value holds; `kind` says its role.

        trunk: `x`; branch: a chain's own variable, which the chain goes on in; special: an
        extra output such as `h_n`, which the next layer does not continue.
        """
        name = self.space.create(wanted)
        self.kinds[name] = kind
        return name


def _loop(indent: str, name: str, source: str, target: str) -> list[str]:
    """An nn.ModuleList runs its layers one after another."""
    lines = [] if target == source else [f"{indent}{target} = {source}"]
    return lines + [
        f"{indent}for layer in self.{name}:",
        f"{indent}{INDENT}{target} = layer({target})",
    ]


FUNCTIONAL_IMPORT = "import torch.nn.functional as F"


def is_call(spec, args: dict) -> bool:
    """Whether a module layer is written as a function call (`functional` is set)."""
    return bool(spec.function) and bool(args.get("functional"))


def function_call(spec, value: str, args: dict, raw: dict) -> Call:
    """`F.relu(x, inplace=True)`, `torch.flatten(x, 1)`, `F.max_pool2d(x, 2, stride=2)`."""
    from torchcanvas.graph.expr import literal
    from torchcanvas.graph.symbolic import Bound

    def text(name):
        bound = raw.get(name)
        return bound.text if isinstance(bound, Bound) else literal(args[name])

    positional = tuple(text(name) for name in spec.function_args)
    keywords = tuple(
        (p.name, text(p.name))
        for p in spec.ctor_params
        if p.name not in spec.function_args
        and p.name in args
        and (isinstance(raw.get(p.name), Bound) or p.required or args[p.name] != p.default)
    )
    extra = tuple(item.split("=", 1) for item in spec.function_kwargs)
    return Call(spec.function, (value, *positional), keywords + tuple(map(tuple, extra)))


def _module_call(spec, func: str, values: dict, used: set) -> Call:
    """`self.name(args, key=value)` following the spec's ModuleCall."""
    args = []
    for item in spec.call.args:
        if isinstance(item, tuple):
            if any(port in values for port in item):
                args.append(TupleOf(tuple(values.get(port, "None") for port in item)))
        elif item in values:
            args.append(values[item])
    kwargs = [(key, values[port]) for key, port in spec.call.kwargs if port in values]
    kwargs += [(key, "False") for key, port in spec.call.flags if port not in used]
    return Call(func, tuple(args), tuple(kwargs))


def _target_text(spec, ports: list[str], targets: dict) -> str:
    """The left-hand side: a name, or a tuple unpacking with `_` for unused outputs."""
    if spec.kind == FUNCTION:
        if len(ports) == 1:
            return targets[ports[0]]
        return str(Unpack(tuple(targets.get(p, "_") for p in ports)))
    structure = _fill(spec.returns, targets)
    return structure if isinstance(structure, str) else str(structure)


def _fill(structure, targets: dict):
    if isinstance(structure, str):
        return targets.get(structure, "_")
    items = tuple(_fill(part, targets) for part in structure)
    if all(item == "_" for item in items):
        return "_"
    return Unpack(items)
