"""`fastnp demo`: the course's reference values computed by fastnp, and a first timing table."""
import numpy as np

import fastnp
from fastnp import reference
from fastnp.timing import format_seconds, machine_info, median_time, settle

X3 = np.array([[3, -10, 0.7], [9, 15, -1], [-5, 1, -1]])
T3 = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def reference_values():
    """(label, fastnp's value, the course's printed value) for every course check."""
    out = fastnp.OutputLayer()
    relu, sig = fastnp.ReLU(), fastnp.Sigmoid()
    affine = fastnp.Affine(np.array([[0.2, -0.3, 0.6], [-0.9, 0.1, -0.4]]), np.array([[0.2, -0.3, 0.6]]))
    rows = [
        ("softmax([[2060,2000,2080],[1010,1020,1030]])",
         fastnp.softmax(np.array([[2060, 2000, 2080], [1010, 1020, 1030]])),
         "[[2.06115362e-09 1.80485138e-35 9.99999998e-01] [2.06106005e-09 4.53978686e-05 9.99954600e-01]]"),
        ("cross_entropy_loss([[0,0,0]], [[0,1,0]])", fastnp.cross_entropy_loss(np.zeros((1, 3)), [[0, 1, 0]]),
         "20.72326583694641"),
        ("cross_entropy_loss([[.1,.3,.6]], [[0,1,0]])", fastnp.cross_entropy_loss([[0.1, 0.3, 0.6]], [[0, 1, 0]]),
         "1.2039728009926025"),
        ("cross_entropy_loss(3 rows)",
         fastnp.cross_entropy_loss([[0.1, 0.3, 0.6], [0.2, 0.4, 0.4], [0.9, 0.05, 0.05]],
                                   [[0, 1, 0], [0, 0, 1], [1, 0, 0]]),
         "0.7418746816378242"),
        ("linear_cost_func at W = 0", fastnp.linear_cost_func(np.ones((20, 3072)), np.eye(10)[np.arange(20) % 10],
                                                              np.zeros((3072, 10)), np.zeros(10)), "2.302585082994045"),
        ("OutputLayer.forward(1 row)", out.forward(X3[:1], T3[:1]), "13.095060867144417"),
        ("OutputLayer.backward()", out.backward(), "[[0.90887517 -0.99999795 0.09112277]]"),
        ("OutputLayer.forward(3 rows)", out.forward(X3, T3), "7.075548386844261"),
        ("ReLU.forward(3 rows)", relu.forward(X3), "[[3 0 0.7] [9 15 0] [0 1 0]]"),
        ("ReLU.backward", relu.backward(np.array([[3, 5, -10], [5, -4, 2], [-3, -5, 3]])),
         "[[3 0 -10] [5 -4 0] [0 -5 0]]"),
        ("Sigmoid.forward([[3,-10,0.7]])", sig.forward(X3[:1]), "[[9.52574127e-01 4.53978687e-05 6.68187772e-01]]"),
        ("Sigmoid.backward([[3,-10,0.7]])", sig.backward(X3[:1]), "[[0.13552998 -0.00045396 0.15519901]]"),
        ("Affine.forward", affine.forward(np.array([[0.2, -0.3], [-0.9, 0.1]])),
         "[[0.51 -0.39 0.84] [-0.07 -0.02 0.02]]"),
        ("Affine.backward (dx)", affine.backward(np.array([[0.1, 0.5, -0.8], [0.4, 0.7, -0.2]])),
         "[[-0.61 0.28] [-0.25 -0.21]]"),
        ("Affine.dW", affine.dW, "[[-0.34 -0.53 0.02] [0.01 -0.08 0.22]]"),
        ("Affine.db", affine.db, "[0.5 1.2 -1.]"),
    ]
    return rows


def timing_cases(n=100, rng=None):
    """(name, fastnp callable, textbook numpy callable) at batch size n."""
    rng = rng or np.random.default_rng(0)
    scores, labels = rng.standard_normal((n, 10)), rng.integers(0, 10, n)
    onehot = np.eye(10)[labels]
    x, W, b = rng.standard_normal((n, 3072)), 0.01 * rng.standard_normal((3072, 1024)), np.zeros(1024)
    dout = rng.standard_normal((n, 1024))

    def pair(layer, *args, **backward_kw):
        def run():
            layer.forward(*args)
            return layer.backward() if len(args) == 2 else layer.backward(dout.copy(), **backward_kw)
        return run

    # The textbook Affine always computes dx; a network's first layer does not
    # need it (its input is the data) and fastnp's skips it when told.
    return [
        (f"OutputLayer fwd+bwd N={n} C=10", pair(fastnp.OutputLayer(), scores, onehot),
         pair(reference.OutputLayer(), scores, onehot)),
        (f"Affine fwd+bwd {n}x3072 @ 3072x1024, dx", pair(fastnp.Affine(W, b), x), pair(reference.Affine(W, b), x)),
        ("  the same as a first layer (no dx)", pair(fastnp.Affine(W, b), x, input_grad=False),
         pair(reference.Affine(W, b), x)),
    ]


def main(args):
    np.set_printoptions(precision=8, linewidth=120)
    print("Course reference values, computed by fastnp (course's printed value below each):\n")
    for label, value, expected in reference_values():
        shown = repr(value) if isinstance(value, float) else np.array2string(value, separator=" ").replace("\n", "")
        print(f"{label}:\n  fastnp: {shown}")
        print(f"  course: {expected}")
    info = machine_info()
    print(f"\nTimings (median of 7 after warm-up) on {info['cpu']}, {info['cores']} cores, "
          f"{info['numba_threads']} numba threads; numpy {info['numpy']}, numba {info['numba']}\n")
    print(f"{'case':40s} {'fastnp':>10s} {'textbook':>10s} {'speed-up':>9s}")
    for name, ours, theirs in timing_cases():
        settle()
        t_ours = median_time(ours)
        settle()
        t_theirs = median_time(theirs)
        print(f"{name:40s} {format_seconds(t_ours):>10s} {format_seconds(t_theirs):>10s} {t_theirs / t_ours:8.2f}x")
    return 0
