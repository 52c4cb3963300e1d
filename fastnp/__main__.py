"""The `fastnp` command (also `python -m fastnp`)."""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

# numba's and torch's OpenMP threads spin-wait by default; on a 2-core machine a
# spinning pool slows the other library and short parallel kernels.  Set before
# either loads its OpenMP runtime; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def _integer(minimum, maximum=None):
    """An argparse type: an integer >= minimum (and <= maximum when one is given)."""
    def integer(text):
        value = int(text)  # a ValueError becomes argparse's "invalid integer value"
        if value < minimum or (maximum is not None and value > maximum):
            within = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            raise argparse.ArgumentTypeError(f"must be {within}, got {value}")
        return value
    return integer


def _real(minimum=None):
    """An argparse type: a finite float, >= minimum when one is given."""
    def real(text):
        value = float(text)
        if not math.isfinite(value) or (minimum is not None and value < minimum):
            raise argparse.ArgumentTypeError(f"must be finite{'' if minimum is None else f' and >= {minimum}'}, "
                                             f"got {text}")
        return value
    return real


def _common(p, gpu_note=""):
    p.add_argument("--data", metavar="DIR", help="folder holding cifar-10-batches-py "
                   "(default: $FASTNP_DATA, else ~/.cache/fastnp)")
    p.add_argument("--download", action="store_true", help="fetch the official archive if the data is missing")
    p.add_argument("--seed", type=_integer(0, 2**32 - 1), default=0,  # np.random.RandomState's range
                   help="fixes the run's random draws (default: %(default)s)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="(default: %(default)s)")
    p.add_argument("--out", metavar="DIR", help="where plots and history.json go "
                   "(default: a new folder fastnp-out/<run>-<time>)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help=f"cuda: an NVIDIA GPU, through numba-cuda (pip install 'fastnp[cuda]'){gpu_note} "
                        "(default: %(default)s)")
    p.add_argument("--n-train", type=_integer(1), default=10000, help="training images read (default: %(default)s)")
    p.add_argument("--n-test", type=_integer(1), default=1000, help="test images read (default: %(default)s)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (there is none either when stderr is not a terminal, as in a log file)")


def parser():
    top = argparse.ArgumentParser(prog="fastnp", description="fastnp: the course's layers on compiled kernels")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="print the course's reference values computed by fastnp and a small timing table")

    bench = sub.add_parser("bench", help="time fastnp against the textbook numpy version and torch")
    bench.add_argument("--quick", action="store_true",
                       help="fewer repeats, shorter SGD runs, textbook numerical gradient from a slice "
                            "(< 60 s on 2 cores, the first run's compilation included)")
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    bench.add_argument("--quiet", action="store_true", help="print only the final table")
    bench.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")

    train = sub.add_parser("train", help="train the course's models on CIFAR-10")
    models = train.add_subparsers(dest="model", required=True)
    linear = models.add_parser("linear", help="linear softmax classifier, SGD (course cell 24)")
    _common(linear, gpu_note="; this model's small-batch SGD runs slower there than on the CPU, see the README")
    linear.add_argument("--iterations", type=_integer(1), default=3000, help="SGD updates (default: %(default)s)")
    linear.add_argument("--alpha", type=_real(), default=0.01, help="learning rate (default: %(default)s)")
    linear.add_argument("--mini-batch", type=_integer(1), default=10, help="rows per update (default: %(default)s)")
    twolayer = models.add_parser("twolayer", help="TwoLayerNet with backprop (course cell 8)")
    _common(twolayer)
    twolayer.add_argument("--hidden", type=_integer(1), default=1024, help="hidden units (default: %(default)s)")
    twolayer.add_argument("--reg", type=_real(0.0), default=1e-4, help="L2 regularization (default: %(default)s)")
    twolayer.add_argument("--batch-size", type=_integer(1), default=100,
                          help="rows per step, drawn with replacement (default: %(default)s)")
    twolayer.add_argument("--lr", type=_real(), default=0.1, help="learning rate (default: %(default)s)")
    twolayer.add_argument("--iterations", type=_integer(1), default=2000, help="training steps (default: %(default)s)")

    check = sub.add_parser("gradcheck", help="backprop vs numerical gradient of TwoLayerNet (course cell 39)")
    _common(check)
    check.add_argument("--hidden", type=_integer(1), default=10, help="hidden units (default: %(default)s)")
    check.add_argument("--images", type=_integer(1), default=20,
                       help="first training images used (default: %(default)s)")
    check.add_argument("--reg", type=_real(0.0), default=1e-4, help="L2 regularization (default: %(default)s)")
    return top


def _out_dir(args):
    run = "gradcheck" if args.command == "gradcheck" else args.model
    out = Path(args.out) if args.out else Path("fastnp-out") / f"{run}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _plot(draw):
    """Call draw(plots module); say how to get matplotlib when it is missing."""
    try:
        from fastnp import plots

        draw(plots)
    except ImportError as err:
        print(f"no plots: {err}", file=sys.stderr)


def _data(args):
    from fastnp.datasets import load_cifar10

    return load_cifar10(args.data, n_train=args.n_train, n_test=args.n_test, dtype=args.dtype,
                        download=args.download)


def run_training(args):
    from fastnp import _device, train

    try:
        _device.resolve(args.device)  # no GPU: say so before loading the data
    except RuntimeError as err:
        print(f"fastnp: {err}", file=sys.stderr)
        return 1

    if args.command == "gradcheck" and args.images > args.n_train:
        print(f"fastnp: --images {args.images} is more than the {args.n_train} training images loaded (--n-train)",
              file=sys.stderr)
        return 2
    try:
        data = _data(args)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"fastnp: {err}", file=sys.stderr)
        return 1
    try:  # before training, so that a run is not lost for want of a place to write it
        out = _out_dir(args)
    except OSError as err:
        print(f"fastnp: cannot create the output folder: {err}", file=sys.stderr)
        return 1
    progress = not args.quiet and sys.stderr.isatty()  # a bar's redraws would flood a log file
    if args.command == "gradcheck":
        history = train.gradcheck(data, hidden_size=args.hidden, n_images=args.images, regularization=args.reg,
                                  seed=args.seed, device=args.device)
        print(f"TwoLayerNet(3072, {args.hidden}, 10) on {args.images} images: backprop {history['backprop_s']:.4f} s, "
              f"numerical {history['numerical_s']:.4f} s")
        for key, diff in history["mean_abs_diff"].items():
            print(f"{key}:{diff}")
    elif args.model == "linear":
        W, b, history = train.train_linear(data, iterations=args.iterations, alpha=args.alpha,
                                           mini_batch=args.mini_batch, seed=args.seed, progress=progress,
                                           device=args.device)
        print(f"final loss : {history['final_loss']} with {history['wall_time_s']:.3f}s")
        print(f"Test acc :  {history['test_acc']}")
        _plot(lambda plots: (plots.plotCostOpt(history["loss"], path=out / "cost.png"),
                             plots.visualize_weights(W, data.class_names, path=out / "weights.png")))
    else:
        net, history = train.train_twolayer(data, hidden_size=args.hidden, regularization=args.reg,
                                            batch_size=args.batch_size, learning_rate=args.lr,
                                            iterations=args.iterations, seed=args.seed, progress=progress,
                                            device=args.device)
        print(f"final train acc {history['final_train_acc']:.4f}, test acc {history['final_test_acc']:.4f}, "
              f"{history['wall_time_s']:.1f} s")
        _plot(lambda plots: (plots.plotCostOpt(history["loss"], path=out / "cost.png"),
                             plots.model_plot(history["train_acc"], history["test_acc"], path=out / "accuracy.png")))
    history["data"] = str(args.data) if args.data else None
    with open(out / "history.json", "w") as f:
        json.dump(history, f, indent=1)
    print(f"wrote {out}")
    return 0


def main(argv=None):
    args = parser().parse_args(argv)
    if args.command == "demo":
        from fastnp import demo

        return demo.main(args)
    if args.command == "bench":
        from fastnp import bench

        return bench.main(args)
    return run_training(args)


if __name__ == "__main__":
    sys.exit(main())
