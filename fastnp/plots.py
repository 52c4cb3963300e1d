"""The course's plotting helpers, on matplotlib (the optional `plot` extra).

Each function draws on a new figure and returns it; with `path` it also
saves a PNG there and closes the figure.
"""
import numpy as np

INSTALL_HINT = 'plots need matplotlib: pip install "fastnp[plot]" (or pip install matplotlib)'


def _pyplot():
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline") \
                and not _has_display():
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return plt


def _has_display():
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _finish(plt, fig, path):
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
    return fig


def plotCostOpt(J_his, path=None):
    """The cost per iteration (J_his from the gradient-descent functions); for
    long noisy (mini-batch) runs also its moving average over 1% of the run."""
    J = np.asarray(J_his, dtype=np.float64)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    window = len(J) // 100
    if window >= 5:
        ax.plot(np.arange(len(J)), J, color="tab:blue", alpha=0.3, linewidth=0.8, label="cost")
        smooth = np.convolve(J, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window - 1, len(J)), smooth, color="tab:blue", label=f"moving average of {window}")
        ax.legend()
    else:
        ax.plot(np.arange(len(J)), J)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    ax.set_title("cost during optimization")
    ax.grid(alpha=0.3)
    return _finish(plt, fig, path)


def model_plot(train_acc, test_acc, path=None):
    """Train and test accuracy per epoch, as the course's model_plot."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(train_acc) + 1)
    ax.plot(epochs, train_acc, marker="o", label="train")
    ax.plot(epochs, test_acc, marker="o", label="test")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("accuracy")
    ax.set_title("model accuracy")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(plt, fig, path)


def visualize_weights(W, class_names=None, layout="hwc", path=None):
    """Each class's column of W (3072, C) as a 32x32 colour image, rescaled to 0-255
    over all of W as the course does.  layout says how the 3072 inputs are ordered:
    "hwc" (each pixel's R, G, B side by side, the course's) or "chw" (the files')."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != 3072:
        raise ValueError(f"W must have shape (3072, C), got {W.shape}")
    if layout not in ("hwc", "chw"):
        raise ValueError(f"layout must be 'hwc' or 'chw', got {layout!r}")
    C = W.shape[1]
    images = W.T.reshape(C, 32, 32, 3) if layout == "hwc" else W.T.reshape(C, 3, 32, 32).transpose(0, 2, 3, 1)
    w_min, w_max = W.min(), W.max()
    images = 255.0 * (images - w_min) / max(w_max - w_min, np.finfo(float).tiny)
    plt = _pyplot()
    cols = min(C, 5)
    rows = -(-C // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows),
                             subplot_kw={"xticks": [], "yticks": []}, squeeze=False)
    for idx, ax in enumerate(axes.flat):
        if idx < C:
            ax.imshow(images[idx].astype("uint8"))
            ax.set_title(class_names[idx] if class_names is not None else f"class {idx}")
        else:
            ax.axis("off")
    return _finish(plt, fig, path)
