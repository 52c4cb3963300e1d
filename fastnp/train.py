"""The course's experiments as functions: each returns what it trained and a
history dict (losses, accuracies, settings, versions, wall time) that the
CLI writes to history.json."""
import platform
import time

import numpy as np
from tqdm.auto import tqdm

import fastnp
from fastnp import _device
from fastnp.functional import linear_pred, stochastic_gradient_descent_func
from fastnp.network import TwoLayerNet

#: SGD updates per compiled call in train_linear, so the progress bar moves.
LINEAR_CHUNK = 100


def versions():
    import numba

    return {"fastnp": fastnp.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version()}


def _accuracy(scores, labels):
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def train_linear(data, iterations=3000, alpha=0.01, mini_batch=10, seed=0, progress=True, device="cpu"):
    """The course's linear classifier (cell 24): W, b from zeros, SGD on all of
    data.X_tr.  The run is split into compiled chunks of LINEAR_CHUNK updates,
    each seeded from `seed`, so a seed fixes the run.  device="cuda" runs the
    updates on the GPU (the data copied there once).  Returns (W, b, history),
    W and b numpy arrays."""
    start = time.perf_counter()
    device = _device.resolve(device)
    X = _device.as_float(device, data.X_tr, "X_tr")
    Y = _device.as_float(device, data.Y_tr_onehot, "Y_tr_onehot", X.dtype)
    W, b = np.zeros((X.shape[1], Y.shape[1]), X.dtype), np.zeros(Y.shape[1], X.dtype)
    n_chunks = -(-iterations // LINEAR_CHUNK)
    seeds = np.random.default_rng(seed).integers(0, 2**32, n_chunks)
    losses = []
    with tqdm(total=iterations, desc="linear SGD", disable=not progress, unit="it") as bar:
        for k in range(n_chunks):
            n = min(LINEAR_CHUNK, iterations - k * LINEAR_CHUNK)
            W, b, J, _ = stochastic_gradient_descent_func(X, Y, W, b, n, alpha, mini_batch, int(seeds[k]),
                                                          record_every=None, device=device)
            losses.extend(_device.to_host(J).tolist())
            bar.update(n)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    W, b = _device.to_host(W), _device.to_host(b)
    history = {
        "kind": "linear",
        "settings": {"iterations": iterations, "alpha": alpha, "mini_batch": mini_batch, "seed": seed,
                     "n_train": len(X), "n_test": len(data.X_te), "dtype": X.dtype.name, "device": device},
        "loss": losses,
        "final_loss": losses[-1] if losses else None,
        "train_acc": _accuracy(linear_pred(data.X_tr, W, b), data.Y_tr),
        "test_acc": _accuracy(linear_pred(data.X_te, W, b), data.Y_te),
        "wall_time_s": time.perf_counter() - start,
        "versions": versions(),
    }
    return W, b, history


def train_twolayer(data, hidden_size=1024, regularization=1e-4, batch_size=100, learning_rate=0.1,
                   iterations=2000, seed=0, progress=True, log=print, device="cpu"):
    """The course's TwoLayerNet training loop (cell 8): batches drawn with
    replacement, gradient and update, the batch loss after the update, and
    train/test accuracy once per epoch starting at iteration 0.  device="cuda"
    trains on the GPU (each batch copied there; the accuracy sets once).
    Returns (net, history)."""
    start = time.perf_counter()
    device = _device.resolve(device)
    X, Y = data.X_tr, data.Y_tr_onehot
    net = TwoLayerNet(X.shape[1], hidden_size, Y.shape[1], regularization=regularization, seed=seed,
                      dtype=X.dtype, device=device)
    X_all, X_test = _device.as_float(device, X, "X_tr"), _device.as_float(device, data.X_te, "X_te")
    rng = np.random.default_rng(seed)
    train_size = X.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)
    losses, train_acc, test_acc = [], [], []
    with tqdm(total=iterations, desc="TwoLayerNet", disable=not progress, unit="it") as bar:
        for i in range(iterations):
            batch_mask = rng.choice(train_size, batch_size)
            x_batch, y_batch = X[batch_mask], Y[batch_mask]
            net.gradient(x_batch, y_batch)
            net.update_params(learning_rate)
            losses.append(net.loss(x_batch, y_batch))
            if i % iter_per_epoch == 0:
                train_acc.append(net.accuracy(X_all, data.Y_tr))
                test_acc.append(net.accuracy(X_test, data.Y_te))
                message = (f"Epoch : {i / iter_per_epoch + 1} Training acc : {round(train_acc[-1], 2)} "
                           f"Test acc : {round(test_acc[-1], 2)}")
                bar.write(message) if progress else log(message)
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    history = {
        "kind": "twolayer",
        "settings": {"hidden_size": hidden_size, "regularization": regularization, "batch_size": batch_size,
                     "learning_rate": learning_rate, "iterations": iterations, "seed": seed,
                     "n_train": train_size, "n_test": len(data.X_te), "dtype": X.dtype.name, "device": device},
        "loss": losses,
        "train_acc": train_acc,
        "test_acc": test_acc,
        "final_train_acc": net.accuracy(X_all, data.Y_tr),
        "final_test_acc": net.accuracy(X_test, data.Y_te),
        "wall_time_s": time.perf_counter() - start,
        "versions": versions(),
    }
    return net, history


def gradcheck(data, hidden_size=10, n_images=20, regularization=1e-4, seed=0, device="cpu"):
    """The course's check (cell 39): backprop against the numerical gradient of a
    TwoLayerNet(3072, hidden_size, 10) on the first n_images training images;
    the mean absolute difference per parameter and each one's time (on the
    GPU, until the gradients are back on the host)."""
    if not 1 <= n_images <= len(data.X_tr):
        raise ValueError(f"n_images must be in [1, {len(data.X_tr)}] (the training images loaded), got {n_images}")
    device = _device.resolve(device)
    x, t = data.X_tr[:n_images], data.Y_tr_onehot[:n_images]
    net = TwoLayerNet(x.shape[1], hidden_size, t.shape[1], regularization=regularization, seed=seed,
                      dtype=x.dtype, device=device)
    x, t = _device.as_float(device, x, "x"), _device.as_float(device, t, "t", x.dtype)

    def on_host(grads):
        return {k: _device.to_host(v) for k, v in grads.items()}

    on_host(net.gradient(x, t))  # compile outside the timings
    on_host(net.numerical_gradient(x, t))
    start = time.perf_counter()
    backprop = on_host(net.gradient(x, t))
    backprop_s = time.perf_counter() - start
    start = time.perf_counter()
    numerical = on_host(net.numerical_gradient(x, t))
    numerical_s = time.perf_counter() - start
    diff = {k: float(np.mean(np.abs(backprop[k] - numerical[k]))) for k in backprop}
    return {
        "kind": "gradcheck",
        "settings": {"hidden_size": hidden_size, "n_images": n_images, "regularization": regularization,
                     "seed": seed, "dtype": x.dtype.name, "device": device},
        "mean_abs_diff": diff,
        "backprop_s": backprop_s,
        "numerical_s": numerical_s,
        "versions": versions(),
    }
