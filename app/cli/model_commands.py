"""`torchcanvas check` and `torchcanvas export`."""

from __future__ import annotations

import sys
from pathlib import Path

from torchcanvas.codegen.emit import CodegenError, emit_module
from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.naming import class_name_problem
from torchcanvas.graph.project import ProjectError, load_project
from torchcanvas.graph.summary import flag_note, human, params_text, summarize, totals

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2


def check(args) -> int:
    """Print the summary table and the problems; exit 0 valid, 1 problems, 2 unreadable."""
    try:
        project = load_project(args.project)
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    model = project.model
    analysis = model.analysis()
    rows = summarize(model, analysis)
    print(f"{model.name} ({Path(args.project).name})")
    print(_table(rows))
    params, flops = totals(rows)
    print(
        f"total: {params_text(rows, model, analysis)}, {params * 4 / 2**20:.2f} MB as float32, "
        f"{human(flops, 'FLOPs')} per sample"
    )
    for problem in analysis.problems:
        print(f"{problem.severity}: {problem}")
    if analysis.ok:
        print("ok: the graph is valid")
        return EXIT_OK
    print(f"{len(analysis.errors)} error(s)")
    return EXIT_PROBLEMS


def _table(rows) -> str:
    header = ("node", "type", "output shape", "parameters", "training")
    body = [
        (r.name, r.type, r.shape, f"{r.params:,}" if r.live else "unused", flag_note(r))
        for r in rows
    ]
    if not any(row[4] for row in body):  # the column only where a node sets a flag
        header, body = header[:4], [row[:4] for row in body]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = []
    for index, row in enumerate([header, *body]):
        cells = [
            str(c).rjust(w) if i == 3 else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def export(args) -> int:
    """Write the generated module; refuse an invalid graph with exit 1."""
    try:
        project = load_project(args.project)
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.class_name and class_name_problem(args.class_name):
        print(f"error: --class-name: {class_name_problem(args.class_name)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if _export_format(args) == "onnx":
        return export_onnx_command(args, project)
    if _export_format(args) == "script":
        return export_script_command(args, project)
    try:
        if getattr(args, "weights", None):
            source, class_name, added = _with_run(project.model, args)
        else:
            result = emit_module(project.model, args.class_name)
            source, class_name, added = result.source, result.class_name, None
    except CodegenError as error:
        print(f"error: cannot export {args.project}; fix these first:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ValueError as error:  # weights that do not fit, or statistics that cannot be read
        print(f"error: {error}", file=sys.stderr)
        for line in error.report.lines() if getattr(error, "report", None) else []:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.output)
    try:
        atomic_write(out, source.encode("utf-8"))
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {out} (class {class_name})")
    if added:
        print(f"with {added}" if added.startswith("preprocess") else f"note: {added}")
    return EXIT_OK


def _with_run(model, args) -> tuple[str, str, str]:
    """The .py with preprocess() from the training statistics saved with --weights."""
    from torchcanvas.app.train.preprocess import python_with_run

    return python_with_run(model, args.class_name, args.weights)


def _export_format(args) -> str:
    """--format, or what the output's suffix says."""
    chosen = getattr(args, "format", None)
    if chosen:
        return chosen
    return "onnx" if str(args.output).lower().endswith(".onnx") else "py"


def export_onnx_command(args, project) -> int:
    """Write ONNX with a dynamic batch, checked by onnxruntime; print the opset."""
    from torchcanvas.app.export_onnx import OnnxExportError, export_onnx
    from torchcanvas.app.train.weights import WeightsError

    out = Path(args.output)
    try:
        done = export_onnx(project.model, out, args.weights, args.class_name)
    except CodegenError as error:
        print(f"error: cannot export {args.project}; fix these first:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        for line in error.report.lines() if error.report else []:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OnnxExportError as error:
        print(f"error: cannot export {args.project} to ONNX: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"wrote {out} (ONNX opset {done.opset}, {done.exporter} exporter; inputs "
        f"{', '.join(done.inputs)}; outputs {', '.join(done.outputs)}; batch dimension dynamic)"
    )
    if done.max_difference is not None:
        difference = f"{done.max_difference:.1e}"
        print(f"onnxruntime at batch 3 matches torch (largest difference {difference})")
    for note in done.notes:
        print(f"note: {note}")
    return EXIT_OK


def export_script_command(args, project) -> int:
    """Write the standalone training script; refuse a source it cannot read with exit 2."""
    from torchcanvas.app.export_script import ScriptError, training_script

    if getattr(args, "weights", None):
        print("error: --weights does not apply to a training script", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        source = training_script(project, args.project, args.class_name)
    except CodegenError as error:
        print(f"error: cannot export {args.project}; fix these first:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ScriptError as error:
        print(f"error: cannot write a training script for {args.project}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.output)
    try:
        atomic_write(out, source.encode("utf-8"))
    except OSError as error:
        print(f"error: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {out} (a training script for class {_script_class(source)})")
    print(f"run it: python {out.name} --epochs N   or   torchrun --nproc_per_node=N {out.name}")
    return EXIT_OK


def _script_class(source: str) -> str:
    return next(line.split()[2] for line in source.splitlines() if line.startswith("MODEL_CLASS"))
