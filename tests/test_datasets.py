"""The CIFAR-10 loader: the real subset, a generated archive, and broken files."""
import hashlib
import io
import pickle
import shutil
import tarfile

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastnp import datasets
from fastnp.datasets import load_cifar10


def write_batch(path, n, seed=0, **override):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"synthetic", b"labels": rng.integers(0, 10, n).tolist(),
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}
    batch.update({key.encode(): value for key, value in override.items()})
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    return batch


def synthetic_root(tmp_path, n_batches=2, per_batch=30, n_test=12):
    folder = tmp_path / datasets.FOLDER
    folder.mkdir()
    batches = [write_batch(folder / f"data_batch_{i + 1}", per_batch, seed=i) for i in range(n_batches)]
    test = write_batch(folder / "test_batch", n_test, seed=99)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in datasets.CLASS_NAMES]}, f)
    return tmp_path, batches, test


def test_real_subset_shapes_and_preprocessing(cifar_root, cifar):
    root = cifar_root
    d = load_cifar10(root)
    assert d.X_tr.shape == (10000, 3072) and d.X_te.shape == (1000, 3072)
    assert d.Y_tr.shape == (10000,) and d.Y_tr_onehot.shape == (10000, 10)
    assert_array_equal(d.Y_tr_onehot.argmax(1), d.Y_tr)
    assert d.class_names[:3] == ("airplane", "automobile", "bird")
    assert np.bincount(d.Y_te).tolist() == [100] * 10
    assert np.abs(d.X_tr.mean(axis=0)).max() < 1e-12  # the training mean image is subtracted
    unit = load_cifar10(root, normalize="unit")
    assert 0.0 <= unit.X_tr.min() and unit.X_tr.max() <= 1.0
    assert_allclose(unit.X_tr.mean(), 0.4745, atol=5e-4)  # the subset README's figure
    assert_allclose(d.X_te, unit.X_te - unit.X_tr.mean(axis=0), atol=1e-12)
    # The conftest loader is an independent reading of the same files.
    X_tr, Y_tr, X_te, Y_te = cifar
    assert_allclose(d.X_tr, X_tr, atol=1e-12)
    assert_array_equal(d.Y_te, Y_te)


def test_pixel_order_hwc_vs_file_chw(tmp_path):
    root, batches, _ = synthetic_root(tmp_path, n_batches=1)
    raw_chw = load_cifar10(root, n_train=30, n_test=12, normalize=None, layout="chw")
    raw_hwc = load_cifar10(root, n_train=30, n_test=12, normalize=None)
    assert_array_equal(raw_chw.X_tr, batches[0][b"data"])
    image = batches[0][b"data"][0].reshape(3, 32, 32)  # channel, row, column
    assert_array_equal(raw_hwc.X_tr[0].reshape(32, 32, 3), image.transpose(1, 2, 0))
    assert raw_hwc.X_tr.dtype == np.float64
    assert load_cifar10(root, n_train=30, n_test=12, dtype=np.float32).X_tr.dtype == np.float32


def test_reads_only_the_batches_needed(tmp_path):
    root, batches, _ = synthetic_root(tmp_path, n_batches=2, per_batch=30)
    (tmp_path / datasets.FOLDER / "data_batch_2").write_bytes(b"corrupt")  # never read for n_train <= 30
    d = load_cifar10(root, n_train=25, n_test=5, normalize=None, layout="chw")
    assert_array_equal(d.X_tr, batches[0][b"data"][:25])
    with pytest.raises(ValueError, match="data_batch_2"):
        load_cifar10(root, n_train=40, n_test=5)


def test_more_images_than_available(tmp_path):
    root, _, _ = synthetic_root(tmp_path, n_batches=2, per_batch=30, n_test=12)
    with pytest.raises(ValueError, match="needs data_batch_3"):
        load_cifar10(root, n_train=61, n_test=5)
    with pytest.raises(ValueError, match="n_test=13"):
        load_cifar10(root, n_train=10, n_test=13)


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*download=True"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("corrupt, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:1000]), "truncated or corrupt"),
    (lambda p: p.write_bytes(b"\x00not a pickle"), "truncated or corrupt"),
    (lambda p: write_batch(p, 5, data=np.zeros((5, 100), np.uint8)), r"shape \(N, 3072\)"),
    (lambda p: write_batch(p, 5, data=np.zeros((5, 3072), np.float32)), "uint8"),
    (lambda p: write_batch(p, 5, labels=[1, 2]), "5 images but labels"),
    (lambda p: write_batch(p, 5, labels=[0, 1, 2, 3, 12]), "labels outside 0-9"),
    (lambda p: p.write_bytes(pickle.dumps({b"labels": [1]})), "expected a dict with b'data'"),
    (lambda p: p.write_bytes(pickle.dumps(print)), "refusing to load builtins.print"),
])
def test_corrupt_batches_raise_clear_errors_naming_the_file(tmp_path, corrupt, message):
    root, _, _ = synthetic_root(tmp_path, n_batches=1)
    path = tmp_path / datasets.FOLDER / "data_batch_1"
    corrupt(path)
    with pytest.raises(ValueError, match=message) as err:
        load_cifar10(root, n_train=5, n_test=5)
    assert "data_batch_1" in str(err.value)


def test_a_malicious_pickle_runs_nothing(tmp_path):
    root, _, _ = synthetic_root(tmp_path, n_batches=1)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / datasets.FOLDER / "test_batch").write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match="refusing to load"):
        load_cifar10(root, n_train=5, n_test=5)
    assert not marker.exists()


def subdir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    return path


def make_archive(src_root, path, extra=None):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src_root / datasets.FOLDER, arcname=datasets.FOLDER)
        if extra is not None:
            info = tarfile.TarInfo(extra)
            payload = b"evil"
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_md5_and_extracts(tmp_path):
    src, batches, _ = synthetic_root(subdir(tmp_path, "src"))
    archive = tmp_path / "cifar.tar.gz"
    md5 = make_archive(src, archive)
    cache = tmp_path / "cache"
    folder = datasets.download_cifar10(cache, url=archive.as_uri(), md5=md5)
    assert (folder / "data_batch_1").exists()
    d = load_cifar10(cache, n_train=30, n_test=12, normalize=None, layout="chw")
    assert_array_equal(d.X_tr, batches[0][b"data"])


def test_an_interrupted_extraction_leaves_no_half_filled_folder(tmp_path, monkeypatch):
    src, batches, _ = synthetic_root(subdir(tmp_path, "src"))
    archive = tmp_path / "cifar.tar.gz"
    md5 = make_archive(src, archive)
    cache = tmp_path / "cache"
    copy, calls = shutil.copyfileobj, []

    def disk_full_at_the_second_file(fsrc, fdst, *args):
        calls.append(fdst.name)
        if len(calls) == 3:  # the download, then the first file extracted, then this one
            raise OSError(28, "No space left on device")
        return copy(fsrc, fdst, *args)

    monkeypatch.setattr(datasets.shutil, "copyfileobj", disk_full_at_the_second_file)
    with pytest.raises(OSError, match="No space left"):
        datasets.download_cifar10(cache, url=archive.as_uri(), md5=md5)
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-python.tar.gz"]  # checked archive kept, nothing else
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match="CIFAR-10 not found"):
        load_cifar10(cache, n_train=30, n_test=12)
    nowhere = (tmp_path / "nowhere.tar.gz").as_uri()  # the kept archive is extracted, not fetched again
    datasets.download_cifar10(cache, url=nowhere, md5=md5)
    d = load_cifar10(cache, n_train=30, n_test=12, normalize=None, layout="chw")
    assert_array_equal(d.X_tr, batches[0][b"data"])


def test_extracting_over_a_folder_replaces_its_batches_and_keeps_other_files(tmp_path):
    src, batches, _ = synthetic_root(subdir(tmp_path, "src"))
    archive = tmp_path / "cifar.tar.gz"
    md5 = make_archive(src, archive)
    folder = tmp_path / "cache" / datasets.FOLDER
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(b"stale")
    (folder / "notes.txt").write_text("mine")
    datasets.download_cifar10(tmp_path / "cache", url=archive.as_uri(), md5=md5)
    assert (folder / "notes.txt").read_text() == "mine"
    d = load_cifar10(tmp_path / "cache", n_train=30, n_test=12, normalize=None, layout="chw")
    assert_array_equal(d.X_tr, batches[0][b"data"])


def test_download_with_a_bad_checksum_extracts_nothing(tmp_path):
    src, _, _ = synthetic_root(subdir(tmp_path, "src"))
    archive = tmp_path / "cifar.tar.gz"
    make_archive(src, archive)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="not the published"):
        datasets.download_cifar10(cache, url=archive.as_uri(), md5="0" * 32)
    assert not (cache / datasets.FOLDER).exists()


def test_download_offline_says_where_to_put_the_files(tmp_path):
    with pytest.raises(RuntimeError, match="copy the official cifar-10-python.tar.gz"):
        datasets.download_cifar10(tmp_path, url=(tmp_path / "nowhere.tar.gz").as_uri())


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/absolute.txt", "cifar-10-batches-py/../../x"])
def test_archive_with_path_traversal_is_refused(tmp_path, member):
    src, _, _ = synthetic_root(subdir(tmp_path, "src"))
    archive = tmp_path / "evil.tar.gz"
    md5 = make_archive(src, archive, extra=member)
    with pytest.raises(RuntimeError, match="refusing to extract"):
        datasets.download_cifar10(tmp_path / "cache", url=archive.as_uri(), md5=md5)
    assert not (tmp_path / "escape.txt").exists()
