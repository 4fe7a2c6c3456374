"""Reading a weights file without trusting it: a regular file, bounded, tensors with values.

torch.load(weights_only=True) never runs code from a file, but it will wait forever on a
pipe, unpack a zip bomb to gigabytes, and hand back meta or sparse tensors that fail later
inside load_state_dict. These checks come first, each with a message that says why.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from collections.abc import Mapping
from typing import BinaryIO

import torch

from torchcanvas.graph.fileio import FileRefused, open_regular, read_handle

MAX_PSEUDO_FILE_BYTES = 64 * 2**20  # a file whose size stat cannot tell (/proc, ...)
UNPACK_SLACK_BYTES = 2**20  # torch stores tensors uncompressed; headers add a little


class WeightsFileError(ValueError):
    """A weights file refused before or while it was read."""


def load_file(path: str | os.PathLike, name: str):
    """torch.load(..., weights_only=True) of a checked regular file."""
    try:
        handle = open_regular(path)
    except FileRefused as error:
        raise WeightsFileError(str(error)) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        source: BinaryIO = handle
        if size == 0:  # stat cannot tell: read what is really there, up to a bound
            data = read_handle(handle, MAX_PSEUDO_FILE_BYTES, f"{name}: too large")
            if not data:
                raise WeightsFileError(f"{name}: the file is empty")
            source, size = io.BytesIO(data), len(data)
        _check_zip(source, size, name)
        source.seek(0)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            warnings.filterwarnings("ignore", message="Validating sparse tensor")
            return torch.load(source, map_location="cpu", weights_only=True)


def _check_zip(source: BinaryIO, size: int, name: str) -> None:
    """Refuse a zip whose entries declare far more bytes than the file holds (a bomb)."""
    if not zipfile.is_zipfile(source):
        return  # torch's legacy format: tensors stored as they are, bounded by the file
    source.seek(0)
    try:
        declared = sum(info.file_size for info in zipfile.ZipFile(source).infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # torch will say it is damaged
    if declared > 2 * size + UNPACK_SLACK_BYTES:
        raise WeightsFileError(
            f"{name}: its zip entries declare {declared / 2**20:,.0f} MB unpacked from a "
            f"{size / 2**20:,.1f} MB file; torch.save never compresses, so this is not a "
            f"weights file and is not unpacked"
        )


def check_tensors(state: Mapping[str, torch.Tensor], name: str) -> None:
    """Refuse tensors that hold no values a model can take (meta, sparse, quantized...)."""
    for key, tensor in state.items():
        if tensor.device.type == "meta":
            raise WeightsFileError(
                f"{name}: {key} is a meta tensor (a shape without values); save the "
                f"weights after the model has real tensors"
            )
        if tensor.layout != torch.strided:
            raise WeightsFileError(
                f"{name}: {key} is a {str(tensor.layout).removeprefix('torch.')} tensor; "
                f"only dense tensors load into layers (save tensor.to_dense())"
            )
        if tensor.is_quantized:
            raise WeightsFileError(f"{name}: {key} is quantized; dequantize before saving")


def non_finite(state: Mapping[str, torch.Tensor]) -> dict[str, str]:
    """Tensors with NaN or inf values: key -> '12 NaN, 1 inf'."""
    found = {}
    for key, tensor in state.items():
        if not tensor.is_floating_point() and not tensor.is_complex():
            continue
        nans = int(torch.isnan(tensor).sum())
        infs = int(torch.isinf(tensor).sum())
        if nans or infs:
            parts = [f"{nans:,} NaN" if nans else "", f"{infs:,} inf" if infs else ""]
            found[key] = ", ".join(p for p in parts if p)
    return found
