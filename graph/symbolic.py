"""Expressions over a block's parameters, and integers that remember where they came from.

A block's inner layers can bind a parameter to an expression (`out_channels * 4`,
`stride`, `in_channels != out_channels`). The text is parsed with `ast` into a small
whitelisted tree and evaluated on values; nothing is ever `eval`ed.

While a block is analysed, its integer parameters are `SymInt`s: ints that also carry a
linear form over the parameters (`in_channels + 3 * growth_rate`). The shape rules compute
with them as with ints, so a BatchNorm's auto `num_features` comes out as the expression
the generated class must pass (`out_channels`), not just as 64.
"""

from __future__ import annotations

import ast
import keyword
import operator

MAX_TEXT = 200


class ExprError(ValueError):
    """An expression that is not allowed or cannot be evaluated; the message says why."""


# ----- symbolic integers ------------------------------------------------------------------
class SymInt(int):
    """An int with a linear form over block parameters: {param: coefficient} + constant.

    Arithmetic keeps the form where it stays linear (adding forms, multiplying by a
    constant); anything else falls back to a plain int, which the generated code cannot
    express as a parameter (codegen then reports it).
    """

    terms: tuple[tuple[str, int], ...]
    const: int

    def __new__(cls, value: int, terms=(), const: int = 0):
        self = super().__new__(cls, value)
        self.terms = tuple((name, coef) for name, coef in terms if coef)
        self.const = const
        return self

    @staticmethod
    def param(name: str, value: int) -> SymInt:
        """The parameter `name` itself."""
        return SymInt(value, ((name, 1),), 0)

    def text(self, order: list[str] | None = None) -> str:
        """The form as Python source: `in_channels + 3 * growth_rate`."""
        return form_text(dict(self.terms), self.const, order)

    def _combine(self, other, sign: int):
        if isinstance(other, SymInt):
            terms = dict(self.terms)
            for name, coef in other.terms:
                terms[name] = terms.get(name, 0) + sign * coef
            return SymInt(
                int(self) + sign * int(other), terms.items(), self.const + sign * other.const
            )
        if isinstance(other, int) and not isinstance(other, bool):
            return SymInt(int(self) + sign * other, self.terms, self.const + sign * other)
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, -1)

    def __rsub__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return SymInt(other - int(self), ((n, -c) for n, c in self.terms), other - self.const)
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, SymInt) and not other.terms:
            other = other.const
        elif isinstance(other, SymInt) and not self.terms:
            return other * self.const
        if isinstance(other, int) and not isinstance(other, bool) and not isinstance(other, SymInt):
            return SymInt(
                int(self) * other, ((n, c * other) for n, c in self.terms), self.const * other
            )
        if isinstance(other, SymInt):
            return Product(int(self) * int(other), f"{_factor(self)} * {_factor(other)}")
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, (bool, SymInt)) and other > 0:
            if all(c % other == 0 for _, c in self.terms) and self.const % other == 0:
                terms = ((n, c // other) for n, c in self.terms)
                return SymInt(int(self) // other, terms, self.const // other)
            return Product(int(self) // other, f"{_factor(self)} // {other}")
        return int(self) // other

    def __neg__(self):
        return SymInt(-int(self), ((n, -c) for n, c in self.terms), -self.const)

    def __hash__(self) -> int:
        return int.__hash__(self)

    def __repr__(self) -> str:
        return f"SymInt({int(self)}, {self.text()!r})"

    __str__ = int.__repr__  # messages show the number


class Product(int):
    """An int computed from several parameters in a non-linear way (`in_channels * ratio`)."""

    source: str

    def __new__(cls, value: int, source: str):
        self = super().__new__(cls, value)
        self.source = source
        return self

    def __hash__(self) -> int:
        return int.__hash__(self)

    __str__ = int.__repr__


def _factor(value: SymInt) -> str:
    text = value.text()
    return f"({text})" if (" + " in text or " - " in text) else text


def form_text(terms: dict[str, int], const: int, order: list[str] | None = None) -> str:
    """Source for coef*param + ... + const, parameters in `order`."""
    names = sorted(terms, key=lambda n: (order or []).index(n) if n in (order or []) else 99)
    parts: list[tuple[int, str]] = []
    for name in names:
        coef = terms[name]
        if coef:
            parts.append((coef, name if abs(coef) == 1 else f"{abs(coef)} * {name}"))
    if const or not parts:
        parts.append((const, str(abs(const))))
    text = ""
    for index, (coef, body) in enumerate(parts):
        if index == 0:
            text = f"-{body}" if coef < 0 else body
        else:
            text += f" - {body}" if coef < 0 else f" + {body}"
    return text


def source_of(value) -> str | None:
    """Python source for a value that depends on block parameters, or None for a constant."""
    if isinstance(value, SymInt) and value.terms:
        return value.text()
    if isinstance(value, Product):
        return value.source
    return None


def plain(value):
    """`value` with every SymInt turned back into an int (for caches and files)."""
    if isinstance(value, (SymInt, Product)):
        return int(value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


# ----- expressions ------------------------------------------------------------------------
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def parse(text: str) -> ast.expr:
    """The expression tree of `text`; ExprError unless it uses only allowed parts.

    Allowed: parameter names, int/float/bool constants, + - * // %, unary -, comparisons,
    `and`, `or`, `not`, and `a if cond else b`.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise ExprError(f"expected an expression of at most {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExprError(f"{text!r:.60} is not a valid expression") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{text!r:.60}: {type(node).__name__} is not allowed in a binding")
        if isinstance(node, ast.Constant) and (
            not isinstance(node.value, (int, float, bool)) or node.value is None
        ):
            raise ExprError(f"{text!r:.60}: only numbers and True/False may appear")
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise ExprError(f"{text!r:.60}: only + - * // % are allowed")
        if isinstance(node, ast.Name) and (keyword.iskeyword(node.id) or node.id.startswith("_")):
            raise ExprError(f"{text!r:.60}: {node.id!r} cannot be a parameter")
    return tree


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.USub,
    ast.Not,
    ast.And,
    ast.Or,
    *_BINARY,
    *_COMPARE,
)


def names(text: str) -> list[str]:
    """The parameter names an expression uses."""
    return sorted({n.id for n in ast.walk(parse(text)) if isinstance(n, ast.Name)})


def evaluate(text: str, env: dict):
    """The value of `text` with parameter values from `env`; ExprError naming what fails."""
    return _eval(parse(text), env, text)


def _eval(node: ast.expr, env: dict, text: str):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            known = ", ".join(sorted(env)) or "none"
            raise ExprError(f"{text!r:.60} uses {node.id!r}, which is not a parameter ({known})")
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env, text)
        return -value if isinstance(node.op, ast.USub) else not value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env, text) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Tuple):
        return tuple(_eval(item, env, text) for item in node.elts)
    if isinstance(node, ast.IfExp):
        branch = node.body if _eval(node.test, env, text) else node.orelse
        return _eval(branch, env, text)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    left, right = _eval(node.left, env, text), _eval(node.right, env, text)
    try:
        return _BINARY[type(node.op)](left, right)
    except (ZeroDivisionError, TypeError) as error:
        raise ExprError(f"{text!r:.60}: {error}") from None


def canonical(text: str) -> str:
    """The expression as ruff would write it (spacing, parentheses)."""
    return ast.unparse(parse(text))


class Bound:
    """A parameter value bound to an expression over the enclosing block's parameters."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = canonical(text)

    def __eq__(self, other) -> bool:
        return isinstance(other, Bound) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("bound", self.text))

    def __repr__(self) -> str:
        return f"Bound({self.text!r})"
