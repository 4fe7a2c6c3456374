"""`torchcanvas import SOURCE --input-shape SHAPE ... -o PROJECT.json`."""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(sub) -> None:
    """Register the import subcommand."""
    command = sub.add_parser(
        "import",
        help="turn an nn.Module (a file's class, or torchvision.models:resnet18) into a project",
    )
    command.add_argument("source", help="path/to/file.py:ClassName or package.module:callable")
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
    command.set_defaults(handler=import_command)


def import_command(args) -> int:
    """Import, write the project and the weights, print the report; nothing on failure."""
    from torchcanvas.app.importing import SourceError, import_source, parse_arguments, parse_shape
    from torchcanvas.app.train.bundle import relative_path
    from torchcanvas.app.train.weights import save_state_dict
    from torchcanvas.graph.fximport import ImportFailed
    from torchcanvas.graph.project import save_project

    output = Path(args.output)
    weights = Path(args.weights_out) if args.weights_out else output.with_suffix(".pt")
    try:
        shapes = [parse_shape(text) for text in args.input_shape or []]
        arguments = parse_arguments(args.args)
        result = import_source(
            args.source, arguments, shapes, args.input_dtype, args.class_name, args.pretrained
        )
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportFailed as error:
        print(error.report.text(), file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.pretrained is not None:  # the project remembers its starting weights
        result.project.training["weights_file"] = relative_path(weights, output.parent)
    try:
        save_project(result.project, output)
        save_state_dict(result.state_dict, weights)
    except OSError as error:
        print(f"error: cannot write: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(result.report.text())
    print(f"wrote {output} and {weights}")
    return EXIT_OK
