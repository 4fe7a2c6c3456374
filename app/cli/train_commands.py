"""`torchcanvas train` and `torchcanvas eval`."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from torchcanvas.graph.project import ProjectError, load_project
from torchcanvas.graph.settings import DATA_SOURCES, DEVICES

EXIT_OK, EXIT_FAULT, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C


def add_parsers(sub) -> None:
    """Register the train and eval subcommands."""
    train = sub.add_parser("train", help="train the project's model headless")
    train.add_argument("project")
    train.add_argument("--epochs", type=int)
    train.add_argument("--device", choices=DEVICES)
    train.add_argument("--data", choices=DATA_SOURCES)
    train.add_argument("--data-root", help="folder of the data set")
    train.add_argument("--download", action="store_true", help="download torchvision data")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--out", default=None, help="output folder (default: runs/PROJECT)")
    train.add_argument("--weights", help="state_dict (.pt/.pth, or a run folder) to start from")
    train.add_argument("--partial", action="store_true", help="load --weights partially")
    train.add_argument("--resume", help="checkpoint.pt (or its run folder) to continue from")
    train.add_argument(
        "--unfreeze-epoch", type=int, help="epoch (from 1) at whose start frozen layers train"
    )
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to DIR")
    train.add_argument(
        "--compile", action="store_true", help="torch.compile the model (faster steps on a GPU)"
    )
    train.set_defaults(handler=train_command)
    evaluate = sub.add_parser("eval", help="evaluate saved weights on the data")
    evaluate.add_argument("project")
    evaluate.add_argument("--weights", required=True, help=".pt/.pth file or a run folder")
    evaluate.add_argument("--data", choices=DATA_SOURCES)
    evaluate.add_argument("--data-root")
    evaluate.add_argument(
        "--split",
        choices=("val", "test"),
        default="val",
        help="validation split, or the official test set (torchvision sets)",
    )
    evaluate.add_argument("--device", choices=DEVICES)
    evaluate.set_defaults(handler=eval_command)


def _load(args):
    """The project with command-line overrides, or an exit code."""
    try:
        project = load_project(args.project)
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    analysis = project.model.analysis()
    if not analysis.ok:
        print(f"error: {args.project} has problems; fix them first:", file=sys.stderr)
        for problem in analysis.errors:
            print(f"  {problem}", file=sys.stderr)
        return None
    from torchcanvas.app.train.job import training_problem

    refused = training_problem(analysis)
    if refused:
        print(f"error: cannot train {args.project}: {refused}", file=sys.stderr)
        return None
    overrides = {
        "epochs": getattr(args, "epochs", None),
        "device": args.device,
        "data": args.data,
        "data_root": args.data_root,
        "batch_size": getattr(args, "batch_size", None),
        "lr": getattr(args, "lr", None),
        "unfreeze_epoch": getattr(args, "unfreeze_epoch", None),
    }
    if getattr(args, "download", False):
        overrides["download"] = True
    if getattr(args, "compile", False):
        overrides["compile"] = True
    from torchcanvas.graph.params import ParamError
    from torchcanvas.graph.settings import TRAINING_INDEX

    for key, value in overrides.items():
        if value is not None:
            try:
                project.training[key] = TRAINING_INDEX[key].coerce(value)
            except ParamError as error:
                print(f"error: --{key.replace('_', '-')}: {error}", file=sys.stderr)
                return None
    from torchcanvas.app.train.bundle import resolve_data_path

    # A relative data_path names a file beside the project, wherever the command runs.
    project.training = resolve_data_path(project.training, Path(args.project).resolve().parent)
    return project


class CtrlC:
    """Ctrl-C during training acts as the window's Stop: the step ends, the weights are saved."""

    def __init__(self) -> None:
        self.started = False  # set by the "started" event: from then on a stop can save
        self.pressed = False

    def check(self) -> list:
        """The loop's control: one stop command once Ctrl-C was pressed."""
        return [("stop",)] if self.pressed else []

    def __call__(self, signum, frame) -> None:
        if not self.started or self.pressed:
            # Before training there is nothing to save; a second Ctrl-C means now. A save
            # it cuts short leaves the last committed epoch in place (see runfolder).
            raise KeyboardInterrupt
        self.pressed = True


def _run_trainer(job, printer) -> tuple[dict | None, CtrlC]:
    """Run the job with Ctrl-C as Stop; (final event, or None if interrupted, and the control)."""
    from torchcanvas.app.train.loop import Trainer

    control = CtrlC()

    def emit(event: dict) -> None:
        control.started = control.started or event["type"] == "started"
        printer(event)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, control) if in_main else None
    try:
        return Trainer(job, emit, control).run(), control
    except KeyboardInterrupt:
        return None, control
    finally:
        if in_main:  # None: a handler not set from Python; the default is the closest
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def train_command(args) -> int:
    """Train with a progress bar; writes model.pt, checkpoint.pt and metrics.csv."""
    project = _load(args)
    if project is None:
        return EXIT_BAD_INPUT
    from torchcanvas.app.cli.progress import ProgressPrinter
    from torchcanvas.app.train.job import TrainingRefused, job_from_project
    from torchcanvas.app.train.runfolder import committed

    out = Path(args.out or Path("runs") / Path(args.project).stem)
    try:
        job = job_from_project(
            project,
            str(out),
            weights=args.weights,
            partial=args.partial,
            resume=args.resume,
            tensorboard_dir=args.tensorboard,
        )
    except TrainingRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    final, control = _run_trainer(job, ProgressPrinter(sys.stdout))
    if final is None:
        kept = committed(out)
        where = f"the weights of the last saved epoch are in {kept}" if kept else "nothing saved"
        print(f"interrupted; {where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if final["type"] == "finished":
        if control.pressed:
            return EXIT_INTERRUPTED  # the printer said where the weights are
        print(f"wrote {out / 'model.pt'}, {out / 'checkpoint.pt'} and {out / 'metrics.csv'}")
        if args.tensorboard:
            print(f"TensorBoard logs: tensorboard --logdir {args.tensorboard}")
        return EXIT_OK
    print(f"error: {final['reason']}", file=sys.stderr)
    for line in final.get("details", []):
        print(f"  {line}", file=sys.stderr)
    if final.get("weights"):
        print(f"the last good weights are in {final['weights']}", file=sys.stderr)
    return EXIT_BAD_INPUT if final["kind"] == "data" else EXIT_FAULT


def eval_command(args) -> int:
    """Print loss, accuracy and the confusion matrix of saved weights."""
    project = _load(args)
    if project is None:
        return EXIT_BAD_INPUT
    from torchcanvas.app.train.core.loop import evaluate, make_loss
    from torchcanvas.app.train.data import DataError, check_targets, load_data, output_classes
    from torchcanvas.app.train.inputs import input_specs, loader_args
    from torchcanvas.app.train.job import resolve_device
    from torchcanvas.app.train.tasks import task_for
    from torchcanvas.app.train.weights import WeightsError, apply, read_state_dict
    from torchcanvas.codegen.build import build_model

    settings = project.training
    analysis = project.model.analysis()
    try:
        device = resolve_device(settings["device"])
        model = build_model(project.model).to(device)
        apply(model, read_state_dict(args.weights), strict=True)
        specs = input_specs(analysis)  # every Input, in the forward's order
        named = loader_args(specs, settings["data"])
        named.update(_saved_stats(args.weights, specs, settings["data"]))
        named["pipeline"] = project.preprocess
        named["classes"] = output_classes(analysis.meta(analysis.outputs[0]).per_sample)
        bundle = load_data(settings, specs[0].shape, split=args.split, **named)
        check_targets(bundle, analysis.meta(analysis.outputs[0]).per_sample, settings)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        for line in error.report.lines() if error.report else []:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    count, batches = _eval_batches(bundle, args.split, device)
    task = task_for(settings, bundle.num_classes)
    scores = evaluate(model, batches, task, make_loss(settings["loss"]))
    print(f"{args.split} samples: {count}")
    print("\n".join(task.report_lines(scores, bundle.class_names)))
    return EXIT_OK


def _saved_stats(weights, specs, source: str) -> dict:
    """load_data's keyword for the training statistics saved with the weights ({} when none)."""
    from torchcanvas.app.train.preprocess import find_record, misfit, stats_of

    record, where = find_record(weights)
    problem = misfit(record, specs, source) if record is not None else None
    if record is None or problem:
        why = problem or "a run from before they were saved, or a plain state_dict"
        print(
            f"note: no training statistics to use with {weights} ({why}); normalizing with "
            f"statistics recomputed from the training split",
            file=sys.stderr,
        )
        return {}
    stats = stats_of(record)
    return {"stats": stats} if stats else {}


def _eval_batches(bundle, split: str, device):
    """(samples, batches of 512 on the device) of the split: tensors, or a streamed set."""
    from torchcanvas.app.train.core.data import ordered_batches

    if bundle.in_memory:
        x, y = (bundle.val_x, bundle.val_y) if split == "val" else (bundle.train_x, bundle.train_y)
        return len(y), ordered_batches(x.to(device), y.to(device), 512)
    import torch
    from torch.utils.data import DataLoader

    dataset = bundle.val_set if split == "val" else bundle.train_set
    loader = DataLoader(dataset, 512, num_workers=min(4, torch.get_num_threads()))
    return len(dataset), ((xb.to(device), yb.to(device)) for xb, yb in loader)
