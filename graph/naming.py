"""Valid, unique Python identifiers for node names, class names and variables."""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Collection

MAX_NAME_LENGTH = 40

# Attribute names an nn.Module already uses; a node called `forward` or `training`
# would break the generated class. Listed rather than read from torch so that
# this module imports nothing heavy.
MODULE_ATTRIBUTES = frozenset(
    """
T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half ipu load_state_dict modules mtia named_buffers named_children
named_modules named_parameters parameters register_backward_hook register_buffer
register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter
register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
set_submodule share_memory smart_get_state state_dict to to_empty train training type xpu
zero_grad
_apply _backward_hooks _backward_pre_hooks _buffers _call_impl _compiled_call_impl
_forward_hooks _forward_hooks_always_called _forward_hooks_with_kwargs _forward_pre_hooks
_forward_pre_hooks_with_kwargs _get_backward_hooks _get_backward_pre_hooks _get_name
_is_full_backward_hook _load_from_state_dict _load_state_dict_post_hooks
_load_state_dict_pre_hooks _maybe_warn_non_full_backward_hook _modules _named_members
_non_persistent_buffers_set _parameters _register_load_state_dict_pre_hook
_register_state_dict_hook _replicate_for_data_parallel _save_to_state_dict _slow_forward
_state_dict_hooks _state_dict_pre_hooks _version _wrapped_call_impl
""".split()
)

# Names the generated module itself binds at top level or in forward(). (`model` and the
# loop variable `layer` are locals the forward writer keeps out of its variable names;
# attributes may use them: `self.model = nn.Sequential(...)` is common in people's code.)
GENERATED_NAMES = frozenset({"torch", "nn", "F", "self", "x", "OrderedDict"})
LOCAL_NAMES = frozenset({"model", "layer"})

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def identifier_problem(name: object) -> str | None:
    """Why `name` cannot be a node name, or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name must be a non-empty string"
    if len(name) > MAX_NAME_LENGTH:
        return f"'{name[:20]}...' is longer than {MAX_NAME_LENGTH} characters"
    if not _IDENTIFIER.match(name):
        return f"'{name}' is not a Python identifier (letters, digits, _; no leading digit)"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"'{name}' is a Python keyword"
    if name.startswith("__"):
        return f"'{name}' starts with two underscores"
    if name in MODULE_ATTRIBUTES or name in GENERATED_NAMES:
        return f"'{name}' is already used by nn.Module or the generated code"
    return None


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def key_problem(name: object) -> str | None:
    """Why `name` cannot name a node at all. Beyond identifiers, a dash is allowed: a child
    of a named nn.Sequential is only a key there (RegNet's `block1-0`); analysis refuses
    a dashed name anywhere else."""
    if isinstance(name, str) and "-" in name:
        if len(name) > MAX_NAME_LENGTH or not _KEY.match(name):
            return f"'{name[:40]}' is not a name (letters, digits, _ and -; no leading digit)"
        return None
    return identifier_problem(name)


def sanitize(text: str, fallback: str = "node") -> str:
    """Turn arbitrary text into an identifier-shaped string (not yet unique)."""
    name = re.sub(r"\W+", "_", str(text), flags=re.ASCII).strip("_").lower()
    name = name[:MAX_NAME_LENGTH] or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"[:MAX_NAME_LENGTH]
    if identifier_problem(name):
        name = f"{name}_"[:MAX_NAME_LENGTH] if not identifier_problem(f"{name}_") else fallback
    return name


def numbered_name(prefix: str, taken: Collection[str]) -> str:
    """The first free `prefix1`, `prefix2`, ... (conv1, conv2, ...)."""
    return next_numbered(prefix, taken)[0]


def next_numbered(prefix: str, taken: Collection[str], start: int = 1) -> tuple[str, int]:
    """The first free numbered name from `start` on, and its number."""
    # A caller that knows every number below `start` is taken passes it, so that naming
    # n layers one after another stays linear.
    base = sanitize(prefix)
    index = start
    while f"{base}{index}" in taken or identifier_problem(f"{base}{index}"):
        index += 1
    return f"{base}{index}", index


def unique_name(wanted: str, taken: Collection[str], start: int = 2) -> str:
    """`wanted` sanitized, with `_2`, `_3`, ... appended until it is free."""
    return _next_unique(sanitize(wanted), taken, start)[0]


def _next_unique(base: str, taken: Collection[str], start: int = 2) -> tuple[str, int]:
    """`base` if free, else the first free `base_N` from N = `start` on, and N (1 for base)."""
    if base not in taken:
        return base, 1
    index = start
    while True:
        suffix = f"_{index}"
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate, index
        index += 1


def class_name_problem(name: object) -> str | None:
    """Why `name` cannot be the model's class name, or None when it can."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or len(name) > MAX_NAME_LENGTH:
        return f"{str(name)[:40]!r} is not a valid class name (letters, digits, _)"
    if keyword.iskeyword(name) or name in GENERATED_NAMES or hasattr(builtins, name):
        return f"'{name}' is reserved; choose another class name"
    return None


class Namespace:
    """Unique identifiers in one scope, such as forward()'s variables: a name is free while
    no live value holds it and it is not reserved; a released name is handed out again."""

    def __init__(self, reserved: Collection[str] = frozenset()) -> None:
        self.reserved = frozenset(reserved)
        self._held: dict[str, int] = {}  # name -> live values it holds
        # base -> every suffix below it is held: naming n values `h_n` one after another
        # costs n steps, not n squared.
        self._next: dict[str, int] = {}

    def base(self, wanted: str) -> str:
        """`wanted` as an identifier; a keyword, builtin or reserved name gets a `_`."""
        base = sanitize(wanted, fallback="v")
        if keyword.iskeyword(base) or hasattr(builtins, base) or base in self.reserved:
            base = f"{base}_"
        return base

    def free(self, name: str) -> bool:
        """Whether `name` may be handed out now."""
        return self._held.get(name, 0) == 0 and name not in self.reserved

    def create(self, wanted: str) -> str:
        """The first free of `base`, `base_2`, `base_3`, ... (not yet held: see hold)."""
        base = self.base(wanted)
        index = self._next.get(base, 1)  # 1: `base` itself
        candidate = base if index == 1 else f"{base}_{index}"
        while not self.free(candidate):
            index += 1
            candidate = f"{base}_{index}"
        self._next[base] = index
        return candidate

    def hold(self, name: str) -> None:
        """One more live value in `name`."""
        self._held[name] = self._held.get(name, 0) + 1

    def release(self, name: str) -> None:
        """One live value less in `name`; once it holds none, create may hand it out again."""
        self._held[name] -= 1
        if self._held[name] > 0:
            return
        self._next.pop(name, None)  # `name` is the first candidate of base `name`
        base, _, digits = name.rpartition("_")
        if digits.isdigit() and base in self._next:
            self._next[base] = min(self._next[base], int(digits))
