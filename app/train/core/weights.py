"""Starting weights: the tensors of a weights file matched to a model's by name, as the
window, the CLI and the training script all load them."""

from collections.abc import Mapping

import torch

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")


def state_in(data):
    """The name -> tensor mapping that torch.load gave, or the one inside a checkpoint
    (TorchCanvas's, or one that keeps it under "state_dict", "model", ...); None if none."""
    if isinstance(data, Mapping) and not tensor_map(data):
        for key in WRAPPER_KEYS:
            if isinstance(data.get(key), Mapping) and tensor_map(data[key]):
                return dict(data[key])
        return None
    return dict(data) if isinstance(data, Mapping) and data else None


def tensor_map(data):
    """Whether every key is a name and every value a tensor."""
    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())


def match_tensors(own, state):
    """(matched model key -> file key, missing model keys, unexpected file keys, model key ->
    (model shape, file shape) for tensors of another shape), from the model's state_dict
    `own` and a file's `state`."""
    matched, mismatched, unexpected, taken = {}, {}, [], set()
    for file_key in state:
        model_key = resolve_key(file_key, own, taken)
        if model_key is None:
            unexpected.append(file_key)
            continue
        taken.add(model_key)
        want, got = tuple(own[model_key].shape), tuple(state[file_key].shape)
        if want != got:
            mismatched[model_key] = (want, got)
        else:
            matched[model_key] = file_key
    missing = [key for key in own if key not in taken]
    return matched, missing, unexpected, mismatched


def resolve_key(key, own, taken):
    """`key` itself, or the model key it names: `module.conv1.weight` -> `conv1.weight`.

    A design drawn flat gets the nested names guessed: torchvision's `layer1.0.conv1.weight`
    -> `layer1_0.conv1.weight` or `layer1_0_conv1.weight`; RegNet's `block1-0` -> `block1_0`.
    Designs built from blocks have the nested names themselves and need no guessing.
    """
    candidates = [key, key.removeprefix("module."), key.removeprefix("_orig_mod.")]
    for candidate in candidates:
        if candidate in own and candidate not in taken:
            return candidate
    parts = key.removeprefix("module.").replace("-", "_").split(".")
    for cut in range(len(parts) - 1, 0, -1):
        candidate = "_".join(parts[:cut]) + "." + ".".join(parts[cut:])
        if candidate in own and candidate not in taken:
            return candidate
    return None


def match_summary(matched, missing, unexpected, mismatched):
    """One line of counts: '12 matched, 2 missing, 0 unexpected, 2 wrong shape'."""
    return (
        f"{len(matched)} matched, {len(missing)} missing, "
        f"{len(unexpected)} unexpected, {len(mismatched)} wrong shape"
    )
