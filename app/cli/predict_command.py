"""`torchcanvas predict`: a run's top classes (or values) for image files and CSV rows."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(sub) -> None:
    """Register the predict subcommand."""
    command = sub.add_parser("predict", help="predict on image files or CSV rows with a run")
    command.add_argument("project")
    command.add_argument("--weights", required=True, help="a run folder or its model.pt")
    command.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or CSV tables")
    command.add_argument("--top", type=int, default=3, help="classes shown per input (3)")
    command.set_defaults(handler=predict_command)


def predict_command(args) -> int:
    """Print one line per image and per table row: 'label  cat 0.912  dog 0.071'."""
    from torchcanvas.app.train.predict import PredictError, load_predictor, predict_files
    from torchcanvas.graph.project import ProjectError, load_project

    if args.top < 1:
        print(f"error: --top must be at least 1, not {args.top}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        project = load_project(args.project)
        analysis = project.model.analysis()
        if not analysis.ok:
            raise PredictError(f"{args.project} has problems; fix them first", analysis.errors)
        predictions = predict_files(load_predictor(project, args.weights), args.inputs, args.top)
    except (ProjectError, PredictError) as error:
        print(f"error: {error}", file=sys.stderr)
        for line in getattr(error, "details", []):
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    width = max(len(p.label) for p in predictions)
    for prediction in predictions:
        print(f"{prediction.label:<{width}}  {prediction.text()}")
    return EXIT_OK
