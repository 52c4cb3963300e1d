"""CIFAR-10 in the layout of the official python release, as the course uses it.

    root/cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch, batches.meta

Each batch is a pickled dict with b'data' (N, 3072) uint8 (each row 1024
red, then 1024 green, then 1024 blue values, row-major) and b'labels'.
The files are read with a restricted unpickler that only rebuilds the
dicts, lists, bytes and numpy arrays those files contain: a pickle from an
untrusted source can otherwise run arbitrary code when loaded.
"""
import hashlib
import os
import pickle
import shutil
import tarfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
PER_BATCH = 10000
#: The class names of the official release (used when batches.meta is absent).
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class CIFAR10(NamedTuple):
    """What load_cifar10 returns; unpacks like the course's seven variables."""
    X_tr: np.ndarray
    Y_tr: np.ndarray
    Y_tr_onehot: np.ndarray
    X_te: np.ndarray
    Y_te: np.ndarray
    Y_te_onehot: np.ndarray
    class_names: tuple


def default_root():
    """FASTNP_DATA if set, else ~/.cache/fastnp: the folder that holds cifar-10-batches-py."""
    return Path(os.environ.get("FASTNP_DATA") or Path.home() / ".cache" / "fastnp")


class _BatchUnpickler(pickle.Unpickler):
    """Rebuilds only numpy arrays and dtypes besides plain containers."""

    def find_class(self, module, name):
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a CIFAR-10 batch file")


def _read_pickle(path):
    try:
        with open(path, "rb") as f:
            return _BatchUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            MemoryError, OverflowError, KeyError) as err:
        raise ValueError(f"{path} is not a readable CIFAR-10 batch (truncated or corrupt?): {err}") from None


def _read_batch(path):
    """(data (N, 3072) uint8, labels (N,) int64) of one batch file, checked."""
    d = _read_pickle(path)
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise ValueError(f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels'")
    data, labels = d[b"data"], d[b"labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise ValueError(f"{path}: b'data' must be a uint8 array of shape (N, 3072), got {dtype} {shape}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{path}: b'labels' must be a list of integers") from None
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {data.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: labels outside 0-9 (min {labels.min()}, max {labels.max()})")
    return data, labels


def _missing(root, what):
    return FileNotFoundError(
        f"CIFAR-10 not found: {what}. Put the official python release so that "
        f"{Path(root) / FOLDER} holds data_batch_1..5, test_batch and batches.meta "
        f"(or pass download=True, or set FASTNP_DATA to the folder holding {FOLDER}).")


def _to_hwc(data):
    """File rows are CHW (all red, all green, all blue); the course's are HWC
    (each pixel's R, G, B side by side), the order W.reshape(32, 32, 3, C) expects."""
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072)


def load_cifar10(root=None, n_train=10000, n_test=1000, dtype=np.float64, normalize="mean", layout="hwc",
                 download=False):
    """CIFAR-10 as the course uses it.

    root: the folder holding cifar-10-batches-py (default: FASTNP_DATA, else
    ~/.cache/fastnp).  Reads the first n_train training images (only the
    batches needed) and the first n_test test images.

    Returns CIFAR10(X_tr (n_train, 3072), Y_tr (n_train,) labels,
    Y_tr_onehot (n_train, 10), X_te (n_test, 3072), Y_te, Y_te_onehot,
    class_names).  Pixel rows are in `layout` "hwc" (default: the course's,
    each pixel's R, G, B side by side) or "chw" (the files' order).

    normalize:
      "mean" (default, the course's): x / 255, then the mean image of the
             n_train training rows subtracted from train and test;
      "unit": x / 255, in [0, 1];
      None:   the raw 0-255 values.
    All in `dtype` (float64 or float32).  download=True fetches the official
    archive into root first when it is missing (see download_cifar10).
    """
    root = Path(root) if root is not None else default_root()
    if normalize not in ("mean", "unit", None):
        raise ValueError(f"normalize must be 'mean', 'unit' or None, got {normalize!r}")
    if layout not in ("hwc", "chw"):
        raise ValueError(f"layout must be 'hwc' or 'chw', got {layout!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    for value, name in ((n_train, "n_train"), (n_test, "n_test")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    folder = root / FOLDER
    if not folder.is_dir():
        if not download:
            raise _missing(root, f"no folder {folder}")
        download_cifar10(root)

    train_parts, train_labels, have = [], [], 0
    for name in TRAIN_BATCHES:
        if have >= n_train:
            break
        path = folder / name
        if not path.exists():
            raise ValueError(f"n_train={n_train} needs {name}, which is not in {folder} "
                             f"(it holds {have} training images)") if have else _missing(root, f"no {path}")
        data, labels = _read_batch(path)
        take = min(n_train - have, data.shape[0])
        train_parts.append(data[:take])
        train_labels.append(labels[:take])
        have += take
    if have < n_train:
        raise ValueError(f"n_train={n_train} but {folder} holds only {have} training images")
    if not (folder / "test_batch").exists():
        raise _missing(root, f"no {folder / 'test_batch'}")
    test_data, test_labels = _read_batch(folder / "test_batch")
    if test_data.shape[0] < n_test:
        raise ValueError(f"n_test={n_test} but {folder / 'test_batch'} holds only {test_data.shape[0]} images")

    X_tr, X_te = np.concatenate(train_parts), test_data[:n_test]
    if layout == "hwc":
        X_tr, X_te = _to_hwc(X_tr), _to_hwc(X_te)
    X_tr, X_te = X_tr.astype(dtype), X_te.astype(dtype)
    if normalize is not None:
        X_tr /= 255
        X_te /= 255
    if normalize == "mean":
        mean = X_tr.mean(axis=0, dtype=np.float64).astype(dtype)
        X_tr -= mean
        X_te -= mean
    Y_tr, Y_te = np.concatenate(train_labels), test_labels[:n_test]
    eye = np.eye(10, dtype=dtype)
    return CIFAR10(X_tr, Y_tr, eye[Y_tr], X_te, Y_te, eye[Y_te], _class_names(folder))


def _class_names(folder):
    path = folder / "batches.meta"
    if not path.exists():
        return CLASS_NAMES
    meta = _read_pickle(path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10:
        raise ValueError(f"{path}: expected b'label_names' with 10 names")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def download_cifar10(root=None, url=URL, md5=MD5):
    """Fetch the official archive, check its MD5 and extract cifar-10-batches-py into root.

    Members are extracted only if they stay inside cifar-10-batches-py
    (no absolute paths, no '..', no links).  Raises RuntimeError with what
    to do when the download fails or the checksum does not match.
    """
    root = Path(root) if root is not None else default_root()
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "cifar-10-python.tar.gz"
    if not archive.exists() or _md5(archive) != md5:
        partial = archive.with_suffix(".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as err:
            partial.unlink(missing_ok=True)
            raise RuntimeError(
                f"could not download CIFAR-10 from {url} ({err}). Without network access, copy the "
                f"official cifar-10-python.tar.gz to {archive} or its extracted {FOLDER} folder into {root}, "
                f"or point FASTNP_DATA (or --data) at a folder that holds {FOLDER}.") from None
        got = _md5(partial)
        if got != md5:
            partial.unlink()
            raise RuntimeError(f"the file downloaded from {url} has MD5 {got}, not the published {md5}: "
                               f"it is corrupt or not the official archive; nothing was extracted")
        partial.replace(archive)
    _extract(archive, root)
    return root / FOLDER


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _extract(archive, root):
    """Extract the archive's cifar-10-batches-py into root.

    The files go to a staging folder first and are moved into place only when
    all of them are out, so an interrupted run (a full disk, Ctrl-C) leaves no
    half-filled folder that later loads would take for the data.  Files
    already in root/cifar-10-batches-py that the archive does not hold stay.
    """
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            parts = Path(m.name).parts
            unsafe = (Path(m.name).is_absolute() or ".." in parts or not parts or parts[0] != FOLDER
                      or not (m.isfile() or m.isdir()) or (m.isfile() and len(parts) < 2))
            if unsafe:
                raise RuntimeError(f"{archive} holds an unexpected member {m.name!r}; refusing to extract")
        staging = root / f".{FOLDER}.partial"
        shutil.rmtree(staging, ignore_errors=True)  # what an interrupted run left
        try:
            for m in members:
                if m.isfile():
                    target = staging.joinpath(*Path(m.name).parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(m) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
            folder = root / FOLDER
            if not folder.exists():
                staging.mkdir(exist_ok=True)
                staging.rename(folder)
                return
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    target = folder / path.relative_to(staging)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    path.replace(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
