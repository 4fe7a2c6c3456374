"""CSV and TSV tables: columns chosen by name, every cell checked before training starts."""

from __future__ import annotations

import codecs
import csv
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from torchcanvas.app.train.bundle import (
    MAX_DATA_FILE_BYTES,
    DataError,
    data_file,
    data_file_errors,
    shape_text,
)
from torchcanvas.app.train.npyfiles import size_text
from torchcanvas.app.train.tasks import task_for
from torchcanvas.graph.fileio import open_regular

DELIMITERS = ",;\t|"
SNIFF_CHARS = 64 * 1024
LISTED = 12  # column names listed in a message before "..."
MAX_LINE_BYTES = 1 << 20  # one line of a table: a longer one is no table (or all NUL bytes)
_LONE_CR = re.compile(r"(?<=\r)(?!\n)(?=.)", re.DOTALL)
MAX_CELLS = 20_000_000  # cells held as text before they become numbers (about 1 GB)


@dataclass
class Table:
    """A table's chosen columns as tensors, with the names behind them."""

    x: torch.Tensor  # (rows, *input_shape) float32
    y: torch.Tensor  # as the task reads them: class labels (rows,) or values (rows, targets)
    class_names: list[str]
    features: list[str]
    targets: list[str]


def load_csv(settings: dict, input_shape: tuple[int, ...]) -> Table:
    """Read data_path as a table and check every cell; DataError names row and column."""
    path = data_file(settings, "CSV")
    header, rows, lines = parse_table(path)
    features, targets = choose_columns(header, settings, path.name)
    where = Where(path.name, header, lines)
    x = torch.tensor([numbers(rows, where, column) for column in features]).T
    y, names = task_for(settings).table_targets(rows, where, targets)
    x = fit_rows(x.float().contiguous(), input_shape, features, path.name)
    return Table(x, y, names, features, targets)


@dataclass
class Where:
    """For messages: the file, its header and each row's line number."""

    file: str
    header: list[str]
    lines: list[int]

    def cell(self, row: int, column: str) -> str:
        """'data.csv: row 7, column 'age'' (rows counted as a spreadsheet counts them)."""
        return f"{self.file}: row {self.lines[row]}, column {column!r}"


def parse_table(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """(header, rows, line number of each row), streamed: the file's size, each line's
    length and the cells held are bounded; refuses empty files, ragged rows and NUL bytes."""
    with data_file_errors(path), open_regular(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        if size > MAX_DATA_FILE_BYTES:
            raise DataError(
                f"{path.name} is {size_text(size)}; tables larger than "
                f"{size_text(MAX_DATA_FILE_BYTES)} are not read (save the data as .npz)."
            )
        return _rows(raw, path)


def _rows(handle, path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    lines = _Lines(handle, path.name)
    sample = lines.sample()
    if not sample.strip():
        raise DataError(f"{path.name} is empty; it needs a header row and rows of values.")
    reader = csv.reader(lines, delimiter=delimiter(path, sample))
    header, rows, at_lines = None, [], []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines carry no sample
            if header is None:
                header = check_header(row, path.name)
            elif len(row) != len(header):
                raise DataError(
                    f"{path.name}: row {reader.line_num} has {len(row)} fields but the "
                    f"header has {len(header)}."
                )
            else:
                rows.append(row)
                at_lines.append(reader.line_num)
                if len(rows) * len(header) > MAX_CELLS:
                    raise DataError(
                        f"{path.name}: more than {MAX_CELLS:,} cells (row {reader.line_num} "
                        f"of {len(header)} columns); save a table this large as .npz."
                    )
    except csv.Error as error:
        raise DataError(f"{path.name}: row {reader.line_num}: {error}.") from None
    if not rows:
        raise DataError(f"{path.name} has a header but no rows of values.")
    return header, rows, at_lines


class _Lines:
    """A table's lines for csv.reader, read one at a time from the bytes so that a bad byte
    is found on its own line: each bounded in length, UTF-8, free of NUL bytes."""

    def __init__(self, handle, file: str) -> None:
        self.handle, self.file, self.number = handle, file, 0
        self.pending: list[str] = []

    def sample(self) -> str:
        """The first SNIFF_CHARS characters (to find the delimiter); reading restarts after."""
        head = self.handle.read(SNIFF_CHARS).removeprefix(codecs.BOM_UTF8)
        self.handle.seek(0)
        return head.decode("utf-8", errors="ignore")  # a bad byte is named by its line

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if not self.pending:
            raw = self.handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                raise StopIteration
            if len(raw) > MAX_LINE_BYTES:
                raise DataError(
                    f"{self.file}: line {self.number + 1} is longer than {MAX_LINE_BYTES:,} "
                    f"bytes; this does not look like a table."
                )
            try:
                text = raw.removeprefix(codecs.BOM_UTF8 if not self.number else b"").decode()
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{self.file}: line {self.number + 1} is not UTF-8 text (bad byte at "
                    f"column {error.start + 1})."
                ) from None
            self.pending = _LONE_CR.split(text)  # a lone \r ends a line too, as before
        line = self.pending.pop(0)
        self.number += 1
        if "\0" in line:
            raise DataError(f"{self.file}: line {self.number} holds a NUL byte; a table is text.")
        return line


def delimiter(path: Path, text: str) -> str:
    """A tab for .tsv/.tab files; otherwise the delimiter the header and first rows use."""
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def check_header(row: list[str], file: str) -> list[str]:
    """Column names: each named, none twice."""
    header = [cell.strip() for cell in row]
    for index, name in enumerate(header):
        if not name:
            raise DataError(f"{file}: column {index + 1} of the header has no name.")
        if name in header[:index]:
            raise DataError(f"{file}: the header names column {name!r} twice.")
    return header


def choose_columns(header: list[str], settings: dict, file: str) -> tuple[list[str], list[str]]:
    """(features, targets): targets default to the last column, features to all the others."""
    targets = list(settings.get("targets") or ()) or [header[-1]]
    features = list(settings.get("features") or ()) or [c for c in header if c not in targets]
    for kind, names in (("target", targets), ("feature", features)):
        for name in names:
            if name not in header:
                raise DataError(
                    f"{file} has no {kind} column {name!r}; its columns are {column_list(header)}."
                )
    both = [name for name in features if name in targets]
    if both:
        raise DataError(f"{file}: column {both[0]!r} is both a feature and a target.")
    if not features:
        raise DataError(f"{file} has no column left for the inputs; name the features.")
    task_for(settings).check_target_columns(targets)
    return features, targets


def column_list(header: list[str]) -> str:
    """'a, b, c' or the first names and how many more."""
    more = f" and {len(header) - LISTED} more" if len(header) > LISTED else ""
    return ", ".join(header[:LISTED]) + more


def numbers(rows: list[list[str]], where: Where, column: str) -> list[float]:
    """One column as floats; DataError at the first empty, text or NaN cell."""
    index = where.header.index(column)
    values = []
    for row_index, row in enumerate(rows):
        cell = row[index].strip()
        try:
            value = float(cell)
        except ValueError:
            if not cell:
                raise DataError(f"{where.cell(row_index, column)} is empty.") from None
            raise DataError(
                f"{where.cell(row_index, column)}: {cell[:40]!r} is not a number."
            ) from None
        if not math.isfinite(value):
            raise DataError(f"{where.cell(row_index, column)}: {cell!r} is not a finite number.")
        values.append(value)
    return values


def class_labels(rows, where: Where, targets: list[str]) -> tuple[torch.Tensor, list[str]]:
    """Class indices and names: names sorted (numbers by value); each distinct value a class."""
    column = targets[0]
    index = where.header.index(column)
    cells = [row[index].strip() for row in rows]
    for row_index, cell in enumerate(cells):
        if not cell:
            raise DataError(f"{where.cell(row_index, column)} is empty; every row needs a class.")
    values = _as_numbers(cells)
    if values is not None:
        fractional = next((c for c, v in zip(cells, values) if not v.is_integer()), None)
        if fractional is not None:
            raise DataError(
                f"{where.file}: target column {column!r} holds fractional values such as "
                f"{fractional!r}; class labels are whole numbers or names. Set task to "
                f"regression to predict numbers."
            )
        distinct = sorted(set(values))
        names = [str(int(v)) for v in distinct]
        lookup = {v: i for i, v in enumerate(distinct)}
        labels = [lookup[v] for v in values]
    else:
        names = sorted(set(cells))
        lookup = {name: i for i, name in enumerate(names)}
        labels = [lookup[cell] for cell in cells]
    if len(names) < 2:
        raise DataError(
            f"{where.file}: target column {column!r} holds a single class {names[0]!r}."
        )
    return torch.tensor(labels, dtype=torch.long), names


def _as_numbers(cells: list[str]) -> list[float] | None:
    try:
        values = [float(cell) for cell in cells]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def fit_rows(x: torch.Tensor, input_shape: tuple[int, ...], features: list[str], file: str):
    """Rows shaped as the Input: (F,) as they are, any shape of F values by reshaping."""
    count = x.shape[1]
    if math.prod(input_shape) == count:
        return x.reshape(len(x), *input_shape)
    raise DataError(
        f"{file} gives {count} feature values per row ({column_list(features)}) but the Input "
        f"expects {shape_text(input_shape)} ({math.prod(input_shape)} values); set the Input "
        f"shape to [{count}] or choose other features."
    )
