"""The training core: torch-only functions that the window, the CLI and the exported training
script all run. Each module imports only the standard library and torch, so the exported
script carries their source as it is (see app/export_script.py): one copy of the split, the
standardization, the loop, the tasks' metrics and the run folder's commit."""

# The modules whose source the training script carries, in the order it carries them.
CARRIED = ("data", "tasks", "loop", "weights", "records")
