"""Command-line entry point: `torchcanvas [PROJECT]` opens the window; subcommands run headless."""

from __future__ import annotations

import argparse
import sys

SUBCOMMANDS = ("check", "export", "train", "eval", "import", "predict")


def build_parser() -> argparse.ArgumentParser:
    """The parser for the headless subcommands."""
    parser = argparse.ArgumentParser(prog="torchcanvas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="print the summary table and the problems")
    check.add_argument("project")
    export = sub.add_parser(
        "export", help="write the model as a Python module, ONNX, or a training script"
    )
    export.add_argument("project")
    export.add_argument("-o", "--output", required=True, help="the .py or .onnx file to write")
    export.add_argument("--class-name", help="class name (default: the project's name)")
    export.add_argument(
        "--format",
        choices=("py", "onnx", "script"),
        help="py: the model class; onnx; script: a training script for python and torchrun "
        "(default: onnx for a .onnx output, else py)",
    )
    export.add_argument(
        "--weights",
        help="a run folder or its model.pt: ONNX puts the weights in, .py adds preprocess()",
    )
    _add_training_commands(sub)
    from torchcanvas.app.cli.import_command import add_parser

    add_parser(sub)
    from torchcanvas.app.cli.predict_command import add_parser as add_predict

    add_predict(sub)
    return parser


def _add_training_commands(sub) -> None:
    try:
        from torchcanvas.app.cli.train_commands import add_parsers
    except ImportError:  # the training engine lands in a later step
        return
    add_parsers(sub)


def gui_parser() -> argparse.ArgumentParser:
    """The parser for opening the window."""
    parser = argparse.ArgumentParser(
        prog="torchcanvas",
        description="Design PyTorch networks visually. Subcommands: " + ", ".join(SUBCOMMANDS),
    )
    parser.add_argument("project", nargs="?", help="project file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window and exit")
    parser.add_argument(
        "--size",
        metavar="WxH",
        type=_size,
        default=(1600, 1000),
        help="window size for --screenshot (default 1600x1000)",
    )
    return parser


def _size(text: str) -> tuple[int, int]:
    """`1280x720` -> (1280, 720), within what a screen can show."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError("the size must be between 320x240 and 7680x4320")
    return width, height


def main(argv: list[str] | None = None) -> int:
    """Run the TorchCanvas CLI or open the window."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        from torchcanvas.app.worker import follow_parent_from_environment

        follow_parent_from_environment()  # started by the window: end with it
        args = build_parser().parse_args(argv)
        return _run(args)
    args = gui_parser().parse_args(argv)
    try:
        from torchcanvas.app.ui.launch import launch
    except ImportError as error:
        print(f"error: the window is not available ({error})", file=sys.stderr)
        return 2
    return launch(args.project, args.screenshot, args.size)


def _run(args) -> int:
    from torchcanvas.app.cli import model_commands

    if args.command == "check":
        return model_commands.check(args)
    if args.command == "export":
        return model_commands.export(args)
    return args.handler(args)


def entry() -> int:
    """Console-script entry: like main(), but quiet when the output pipe closes early."""
    try:
        return main()
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `torchcanvas check x.json | head`
        return 0
    except KeyboardInterrupt:  # Ctrl-C before a command took it over (while torch loads)
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(entry())
