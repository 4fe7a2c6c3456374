"""`torchcanvas import SOURCE --input-shape SHAPE ... -o PROJECT.json`."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from torchcanvas.app.import_process import MEMORY_LIMIT_GIB

EXIT_OK, EXIT_BAD_INPUT = 0, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def add_parser(sub) -> None:
    """Register the import subcommand."""
    command = sub.add_parser(
        "import",
        help="turn an nn.Module (a file's class, or torchvision.models:resnet18) into a project",
    )
    command.add_argument(
        "source",
        help="path/to/file.py:NAME or package.module:NAME: an nn.Module class, a torchvision "
        "model builder, or a function of the file that returns a module",
    )
    command.add_argument(
        "--args", help="constructor keyword arguments as JSON: '{\"num_classes\": 10}'"
    )
    command.add_argument(
        "--input-shape",
        action="append",
        help="per-sample shape of one input, e.g. 3x224x224; once per input, in forward's order "
        "(with --pretrained: the weights' crop size)",
    )
    command.add_argument(
        "--input-dtype", action="append", help="dtype of each input (default float32), in order"
    )
    command.add_argument("-o", "--output", required=True, help="the project file to write")
    command.add_argument("--weights-out", help="where the weights go (default: PROJECT.pt)")
    command.add_argument(
        "--pretrained",
        nargs="?",
        const="DEFAULT",
        metavar="WEIGHTS",
        help="start from torchvision's pretrained weights (default: DEFAULT, or a name such as "
        "IMAGENET1K_V1), read from $TORCH_HOME/hub/checkpoints",
    )
    command.add_argument("--class-name", help="the model's class name (default: the module's)")
    command.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="stop the import if the model's code has not finished by then (default 300)",
    )
    command.add_argument(
        "--memory-limit",
        type=float,
        default=MEMORY_LIMIT_GIB,
        metavar="GIB",
        help=f"the memory the model's code may use, in GiB (default {MEMORY_LIMIT_GIB:g}; "
        "0: no limit)",
    )
    command.set_defaults(handler=import_command)


def import_command(args) -> int:
    """Import in a process of its own, bounded in time and memory; write the project and
    the weights and print the report, or write nothing. Ctrl-C stops it (exit 130)."""
    run = None
    try:
        request = _request(args)
        if isinstance(request, str):
            print(f"error: {request}", file=sys.stderr)
            return EXIT_BAD_INPUT
        from torchcanvas.app.import_process import ImportRun

        output = Path(args.output)
        weights = Path(args.weights_out) if args.weights_out else output.with_suffix(".pt")
        run = ImportRun(request, weights, time_limit=args.timeout)
        run.start()
        return _finish(run.wait(), args, output, weights)
    except KeyboardInterrupt:
        _stop_quietly(run)
        print("interrupted: the import was stopped; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if run is not None:
            run.cancel()  # ends the import process, whatever happened here


def _stop_quietly(run) -> None:
    """End the import process; a second Ctrl-C meanwhile prints no traceback."""
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        if run is not None:
            run.cancel()
    finally:
        if in_main:  # None: a handler not set from Python; the default is the closest
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _request(args) -> dict | str:
    """What the import process needs, or why the command line cannot be used."""
    from torchcanvas.app.importing import SourceError, parse_arguments, parse_shape

    if not args.timeout > 0 or not 0 <= args.memory_limit < float("inf"):  # NaN too
        return "--timeout must be above 0 and --memory-limit at least 0 (0: no limit)"
    try:
        shapes = [parse_shape(text) for text in args.input_shape or []]
        arguments = parse_arguments(args.args)
    except SourceError as error:
        return str(error)
    return {
        "source": args.source,
        "arguments": arguments,
        "shapes": shapes,
        "dtypes": args.input_dtype or [],
        "class_name": args.class_name,
        "pretrained": args.pretrained,
        "memory_limit_gib": args.memory_limit,
    }


def _finish(outcome, args, output: Path, weights: Path) -> int:
    """Write the project next to the weights the import process wrote, or say why not."""
    from torchcanvas.app.train.bundle import relative_path
    from torchcanvas.graph.project import save_project

    if not outcome.ok:
        if outcome.report:  # the import report says what could not be mapped
            print(outcome.report, file=sys.stderr)
            print("nothing was written", file=sys.stderr)
        else:
            hint = " (give it longer with --timeout SECONDS)" if outcome.timed_out else ""
            print(f"error: {outcome.error}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.pretrained is not None:  # the project remembers its starting weights
        outcome.project.training["weights_file"] = relative_path(weights, output.parent)
    try:
        save_project(outcome.project, output)
    except OSError as error:
        weights.unlink(missing_ok=True)
        print(f"error: cannot write: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(outcome.report)
    print(f"wrote {output} and {weights}")
    return EXIT_OK
