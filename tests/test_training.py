"""Training runs and the CLI end to end, on small runs over the real subset."""
import json
import subprocess
import sys

import numpy as np
import pytest

from fastnp import _device, plots, train
from fastnp.__main__ import main as cli_main
from fastnp.datasets import load_cifar10

matplotlib = pytest.importorskip("matplotlib")


def cli(*args, cwd=None):
    done = subprocess.run([sys.executable, "-m", "fastnp", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd)
    return done


def png_ok(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_linear_cli_writes_history_and_plots(cifar_root, tmp_path):
    done = cli("train", "linear", "--data", str(cifar_root), "--iterations", "200", "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Test acc" in done.stdout
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["kind"] == "linear" and len(history["loss"]) == 200
    assert history["settings"]["alpha"] == 0.01 and history["settings"]["mini_batch"] == 10
    assert 0.15 < history["test_acc"] <= 1.0  # well above chance after 200 updates
    assert {"fastnp", "numpy", "numba"} <= set(history["versions"]) and history["wall_time_s"] > 0
    assert png_ok(tmp_path / "cost.png") and png_ok(tmp_path / "weights.png")


def test_train_twolayer_cli_small_run(cifar_root, tmp_path):
    done = cli("train", "twolayer", "--data", str(cifar_root), "--iterations", "30", "--hidden", "32",
               "--batch-size", "50", "--n-train", "500", "--n-test", "200", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Epoch : 1.0 Training acc" in done.stdout
    assert "it/s" not in done.stderr  # stderr is a pipe here: no progress bar without --quiet
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == 30 and len(history["train_acc"]) == 3  # iterations 0, 10, 20
    assert png_ok(tmp_path / "cost.png") and png_ok(tmp_path / "accuracy.png")


def test_gradcheck_cli(cifar_root, tmp_path):
    done = cli("gradcheck", "--data", str(cifar_root), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    history = json.loads((tmp_path / "history.json").read_text())
    assert set(history["mean_abs_diff"]) == {"W1", "b1", "W2", "b2"}
    assert max(history["mean_abs_diff"].values()) < 1e-8


def test_cli_errors_are_clear(tmp_path):
    done = cli("train", "linear", "--data", str(tmp_path))
    assert done.returncode == 1 and "CIFAR-10 not found" in done.stderr
    try:
        _device.resolve("cuda")
        gpu = True
    except RuntimeError:
        gpu = False
    done = cli("train", "linear", "--device", "cuda", "--data", str(tmp_path))
    # without a GPU, it says so before looking for the data
    assert done.returncode == 1 and ("CIFAR-10 not found" if gpu else "device='cuda'") in done.stderr


@pytest.mark.parametrize("argv, message", [
    (["train", "linear", "--iterations", "0"], "argument --iterations: must be >= 1, got 0"),
    (["train", "linear", "--alpha", "nan"], "argument --alpha: must be finite, got nan"),
    (["train", "linear", "--mini-batch", "0"], "argument --mini-batch: must be >= 1"),
    (["train", "linear", "--n-train", "2.5"], "argument --n-train: invalid integer value"),
    (["train", "twolayer", "--reg", "-1"], "argument --reg: must be finite and >= 0.0"),
    (["train", "twolayer", "--lr", "inf"], "argument --lr: must be finite"),
    (["train", "twolayer", "--hidden", "0"], "argument --hidden: must be >= 1"),
    (["gradcheck", "--images", "0"], "argument --images: must be >= 1"),
    (["gradcheck", "--seed", str(2**32)], "argument --seed: must be in [0, 4294967295]"),
])
def test_cli_refuses_bad_arguments_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv + ["--data", "/nonexistent"])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_cli_checks_what_it_needs_before_training(cifar_root, tmp_path, capsys):
    assert cli_main(["gradcheck", "--data", "/nonexistent", "--n-train", "10", "--images", "11"]) == 2
    assert "--images 11 is more than the 10 training images" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli_main(["train", "linear", "--data", str(cifar_root), "--out", str(blocker / "run"), "--quiet"]) == 1
    assert "cannot create the output folder" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"
    data = load_cifar10(cifar_root, n_train=10, n_test=10)
    with pytest.raises(ValueError, match=r"n_images must be in \[1, 10\]"):
        train.gradcheck(data, n_images=11)


def test_default_out_dir_is_new_per_run(cifar_root, tmp_path):
    done = cli("train", "linear", "--data", str(cifar_root), "--iterations", "10", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = list((tmp_path / "fastnp-out").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("linear-") and (runs[0] / "history.json").exists()


def test_linear_training_is_reproducible(cifar_root):
    data = load_cifar10(cifar_root, n_train=500, n_test=100)
    W1, _, h1 = train.train_linear(data, iterations=150, seed=3, progress=False)
    W2, _, h2 = train.train_linear(data, iterations=150, seed=3, progress=False)
    W3, _, _ = train.train_linear(data, iterations=150, seed=4, progress=False)
    np.testing.assert_array_equal(W1, W2)
    assert h1["loss"] == h2["loss"] and not np.array_equal(W1, W3)


def test_plot_helpers(tmp_path):
    plots.plotCostOpt(np.linspace(2.3, 0.5, 50), path=tmp_path / "a.png")
    plots.model_plot([0.1, 0.3, 0.4], [0.1, 0.25, 0.35], path=tmp_path / "b.png")
    W = np.random.default_rng(0).standard_normal((3072, 10))
    plots.visualize_weights(W, path=tmp_path / "c.png")
    for name in "abc":
        assert png_ok(tmp_path / f"{name}.png")
    with pytest.raises(ValueError, match=r"\(3072, C\)"):
        plots.visualize_weights(np.ones((10, 10)))


def test_visualize_weights_agrees_with_the_layout():
    """A weight that is 'red everywhere' in HWC order must come out red."""
    plt = matplotlib.pyplot
    W = np.zeros((3072, 1))
    W.reshape(32, 32, 3, 1)[:, :, 0, 0] = 1.0  # HWC: channel 0 of every pixel
    fig = plots.visualize_weights(W)
    image = fig.axes[0].images[0].get_array()
    assert (image[..., 0] == 255).all() and (image[..., 1:] == 0).all()
    plt.close(fig)
    chw = np.zeros((3072, 1))
    chw[:1024] = 1.0  # CHW: the first 1024 values are red
    fig = plots.visualize_weights(chw, layout="chw")
    image = fig.axes[0].images[0].get_array()
    assert (image[..., 0] == 255).all() and (image[..., 1:] == 0).all()
    plt.close(fig)
