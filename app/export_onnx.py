"""ONNX export: the generated module and its weights, a dynamic batch, checked by onnxruntime.

Qt-free, so the CLI and the window call the same `export_onnx`. The module is the class the
`.py` export defines (codegen.build), weights load strictly with weights_only=True. Two
exporters: torch's TorchScript exporter first (seconds even for ResNet-50), then the
torch.export-based one for what the first cannot translate (ChannelShuffle, adaptive pools
whose sizes do not divide) or when a future torch no longer has it. Either result runs
through onnxruntime at a batch size other than the one traced, so a batch baked into the
graph is caught here, not in deployment.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchcanvas.codegen.build import compile_model
from torchcanvas.graph.fileio import atomic_write

ONNX_OPSET = 18  # the default of torch.export's exporter; the TorchScript one is asked for it
TRACE_BATCH, CHECK_BATCH = 2, 3  # different, so a batch size baked into the graph shows
ATOL, RTOL = 1e-4, 1e-3
BATCH_AXIS = "batch"
_OP = re.compile(r"aten(?:::|\.)([A-Za-z0-9_]+)|ONNX export of operator ([A-Za-z0-9_]+)")


class OnnxExportError(ValueError):
    """The model cannot be written as ONNX; the message names the node when it is known."""

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node  # the graph node's name


@dataclass
class OnnxExport:
    """What was written: file, opset, exporter, tensor names and the onnxruntime check."""

    path: Path
    opset: int
    exporter: str  # "torchscript" or "dynamo"
    inputs: list[str]
    outputs: list[str]
    max_difference: float | None = None  # |onnxruntime - torch| at CHECK_BATCH
    notes: list[str] = field(default_factory=list)


@dataclass
class _Signature:
    """Input and Output node names, and where each has its batch dimension."""

    inputs: list[str]
    outputs: list[str]
    input_axes: list[int | None]
    output_axes: list[int | None]
    input_dtypes: list[str]
    input_shapes: list[tuple[int, ...]]  # per sample


def export_onnx(model_graph, path, weights=None, class_name: str | None = None) -> OnnxExport:
    """Write `model_graph` as ONNX at `path`; CodegenError, WeightsError or OnnxExportError."""
    cls, result = compile_model(model_graph, class_name)
    module = _instance(cls, weights)
    signature = _signature(model_graph.analysis())
    with tempfile.TemporaryDirectory(prefix="torchcanvas-onnx-") as folder:
        draft = Path(folder) / "model.onnx"
        exporter, difference = _export_checked(model_graph, module, signature, draft, result)
        data, opset = _stamped(draft, exporter, result.class_name)
    atomic_write(path, data)
    notes = [] if weights else ["no weights given: the file holds freshly initialized ones"]
    if difference is None:
        notes.append(
            f"{', '.join(_sampling_nodes(model_graph))} sample random numbers: onnxruntime "
            f"ran the file, but its values are not compared with torch"
        )
    return OnnxExport(
        Path(path),
        opset,
        exporter,
        signature.inputs,
        signature.outputs,
        difference,
        notes,
    )


def _instance(cls, weights) -> torch.nn.Module:
    """The model in eval mode, seeded, with `weights` loaded strictly when given."""
    from torchcanvas.app.train.weights import apply, read_state_dict

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = cls()
    if weights:
        apply(module, read_state_dict(weights), strict=True)
    return module.eval()


def _signature(analysis) -> _Signature:
    metas_in = [analysis.meta(node) for node in analysis.inputs]
    metas_out = [analysis.meta(node) for node in analysis.outputs]
    return _Signature(
        [analysis.names[node] for node in analysis.inputs],
        [analysis.names[node] for node in analysis.outputs],
        [meta.batch_dim for meta in metas_in],
        [meta.batch_dim for meta in metas_out],
        [meta.dtype for meta in metas_in],
        [meta.per_sample for meta in metas_in],
    )


def sample_inputs(module, signature: _Signature, batch: int, seed: int) -> tuple:
    """Random tensors for the Inputs; ids stay below every Embedding's num_embeddings."""
    generator = torch.Generator().manual_seed(seed)
    embeddings = [m.num_embeddings for m in module.modules() if isinstance(m, torch.nn.Embedding)]
    limit = min(embeddings, default=2)
    tensors = []
    for shape, axis, dtype in zip(
        signature.input_shapes, signature.input_axes, signature.input_dtypes
    ):
        full = list(shape)
        if axis is not None:
            full.insert(axis, batch)
        kind = getattr(torch, dtype)
        if kind == torch.bool:
            tensors.append(torch.rand(full, generator=generator) > 0.5)
        elif kind.is_floating_point:
            tensors.append(torch.randn(full, generator=generator).to(kind))
        else:
            tensors.append(torch.randint(0, limit, full, generator=generator, dtype=kind))
    return tuple(tensors)


def _export_checked(model_graph, module, signature, draft: Path, result) -> tuple[str, float]:
    """Export with the first exporter whose file matches torch; OnnxExportError otherwise."""
    trace = sample_inputs(module, signature, TRACE_BATCH, seed=0)
    check = sample_inputs(module, signature, CHECK_BATCH, seed=1)
    errors: list[BaseException] = []
    for name, exporter in _exporters():
        try:
            with _quiet():
                exporter(module, trace, signature, draft)
        except Exception as error:  # the exporters fail with many types; all end here
            errors.append(error)
            continue
        values = not _sampling_nodes(model_graph)
        difference, problem = _compare(module, check, signature, draft, values)
        if problem is None:
            return name, difference
        errors.append(OnnxExportError(problem))
    raise _explain(errors, model_graph, module, trace, result)


def _exporters():
    """(name, export function) in the order they are tried."""
    return [("torchscript", _torchscript), ("dynamo", _dynamo)]


def _torchscript(module, trace: tuple, signature: _Signature, draft: Path) -> None:
    names = signature.inputs + signature.outputs
    axes = signature.input_axes + signature.output_axes
    dynamic = {name: {axis: BATCH_AXIS} for name, axis in zip(names, axes) if axis is not None}
    torch.onnx.export(
        module,
        trace,
        str(draft),
        input_names=signature.inputs,
        output_names=signature.outputs,
        dynamic_axes=dynamic,
        opset_version=ONNX_OPSET,
        dynamo=False,
    )


def _dynamo(module, trace: tuple, signature: _Signature, draft: Path) -> None:
    batch = torch.export.Dim(BATCH_AXIS)
    shapes = tuple({axis: batch} if axis is not None else None for axis in signature.input_axes)
    program = torch.onnx.export(
        module,
        trace,
        input_names=signature.inputs,
        output_names=signature.outputs,
        dynamic_shapes=shapes,
        opset_version=ONNX_OPSET,
        dynamo=True,
        verbose=False,
    )
    program.save(str(draft), external_data=False)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters: warnings, prints, and the IR dump torch's C++ writes to fd 2."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    try:
        saved = os.dup(1), os.dup(2)
    except OSError:  # no console (a windowed app): only Python's streams to silence
        saved = None
    with open(os.devnull, "w") as null, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if saved:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
        try:
            with contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                yield
        finally:
            if saved:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])


def _sampling_nodes(model_graph) -> list[str]:
    """The names of the live nodes that draw random numbers (torch.randn_like)."""
    analysis = model_graph.analysis()
    nodes = [n for n in analysis.order if n in analysis.live]
    return [analysis.names[n] for n in nodes if model_graph.spec(n).samples]


def _compare(module, check: tuple, signature: _Signature, draft: Path, values: bool = True):
    """(largest |onnxruntime - torch|, None), or (difference, why the file is not usable);
    without `values` (a model that samples) only the shapes: (None, None) or a reason."""
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about graph rewrites
    try:
        session = onnxruntime.InferenceSession(str(draft), options, ["CPUExecutionProvider"])
        wanted = {arg.name for arg in session.get_inputs()}  # an unused Input is dropped
        feeds = {n: t.numpy() for n, t in zip(signature.inputs, check) if n in wanted}
        got = session.run(signature.outputs, feeds)
    except Exception as error:  # onnxruntime's own exception types
        return 0.0, f"onnxruntime cannot run the file at batch {CHECK_BATCH}: {_first_line(error)}"
    with torch.no_grad():
        expected = module(*check)
    expected = expected if isinstance(expected, tuple) else (expected,)
    worst = 0.0
    for name, want, have in zip(signature.outputs, expected, got):
        want = want.numpy()
        if want.shape != have.shape:
            return worst, (
                f"output {name}: onnxruntime gives shape {have.shape} at batch "
                f"{CHECK_BATCH}, torch {want.shape}"
            )
        if not values:
            continue
        if want.size:
            worst = max(worst, float(np.abs(have.astype("float64") - want).max()))
        if not np.allclose(have, want, rtol=RTOL, atol=ATOL):
            return worst, f"output {name}: onnxruntime differs from torch by {worst:.3g}"
    return (worst if values else None), None


def _stamped(draft: Path, exporter: str, class_name: str) -> tuple[bytes, int]:
    """The file's bytes with what made it in its metadata; the opset is in its header."""
    import onnx

    model = onnx.load(str(draft))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    props = {
        "torchcanvas.class": class_name,
        "torchcanvas.exporter": exporter,
        "torchcanvas.opset": str(opset),
        "torchcanvas.dynamic_axis": BATCH_AXIS,
    }
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = f"{class_name}: exported by TorchCanvas ({exporter}, opset {opset})"
    return model.SerializeToString(), opset


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]


def _explain(errors: list[BaseException], model_graph, module, trace, result) -> OnnxExportError:
    """One message for the failures: the node that calls the failing operator, and why."""
    mismatch = next((e for e in errors if isinstance(e, OnnxExportError)), None)
    if mismatch is not None:
        return OnnxExportError(f"the exported file does not match the model: {mismatch}")
    said = _exporter_message(errors)
    op = next((m.group(1) or m.group(2) for e in errors for m in [_OP.search(str(e))] if m), None)
    found = _node_calling(module, trace, op, result) if op else None
    found = found or _node_in_traceback(errors, module, result)
    label, node = found if found else (None, None)
    kind = _node_kind(model_graph, module, node, label) if label else ""
    where = f"{label} ({kind}): " if kind else (f"{label}: " if label else "")
    if op:
        return OnnxExportError(
            f"{where}torch's ONNX exporters have no translation for aten::{op} in opset "
            f"{ONNX_OPSET} ({said}); replace this layer, or export Python instead",
            label,
        )
    return OnnxExportError(f"{where}cannot be exported to ONNX: {said}", label)


def _exporter_message(errors: list[BaseException]) -> str:
    """The exporters' own words, shortest first: the TorchScript one says it in one line."""
    lines = []
    for error in errors:
        text = str(error)
        if "## Exception summary" in text:  # torch.export's report: its summary's first line
            text = text.split("## Exception summary", 1)[1]
        lines.append(_first_line(error if not text.strip() else ValueError(text)))
    return min(lines, key=len) if lines else "no exporter succeeded"


def _node_calling(module, trace, op: str, result):
    """(label, node key) of the first node whose forward calls `op`, or None."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    filename = f"<torchcanvas {result.class_name}>"
    paths = {id(m): path for path, m in module.named_modules()}
    found: list = []

    def record(name: str) -> None:
        if found or name.lstrip("_").removesuffix("_with_indices") != op.lstrip("_"):
            return
        for frame in _generated_frames(filename, result.node_lines):
            found.append((_label(frame, result, paths), result.node_lines[frame.f_lineno]))
            return

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            record(getattr(func, "__name__", ""))
            return func(*args, **(kwargs or {}))

    class Operators(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            record(func._schema.name.split("::")[-1])
            return func(*args, **(kwargs or {}))

    with contextlib.suppress(Exception), torch.no_grad(), Functions(), Operators():
        module(*trace)
    return found[0] if found else None


def _generated_frames(filename: str, node_lines: dict[int, str]):
    """Frames of the generated source on the current stack, innermost first."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == filename and frame.f_lineno in node_lines:
            yield frame
        frame = frame.f_back


def _node_in_traceback(errors, module, result):
    """(label, node key) of the generated line an exporter's traceback passes through."""
    from torchcanvas.app.train.faults import node_of

    paths = {id(m): path for path, m in module.named_modules()}
    for error in errors:
        key, frame = node_of(error, f"<torchcanvas {result.class_name}>", result.node_lines)
        if key:
            return _label_for(key, frame, result, paths), key
    return None


def _label(frame, result, paths) -> str:
    return _label_for(result.node_lines[frame.f_lineno], frame, result, paths)


def _label_for(key: str, frame, result, paths) -> str:
    from torchcanvas.app.train.faults import module_label

    return module_label(key, frame, result.labels, paths)


def _node_kind(model_graph, module, node: str | None, label: str) -> str:
    """The layer class at `label` (`FractionalMaxPool2d`), else the graph node's type."""
    with contextlib.suppress(AttributeError):
        return type(module.get_submodule(label)).__name__
    if node and ":" not in node:
        with contextlib.suppress(Exception):
            return model_graph.node_type(node)
    return ""
