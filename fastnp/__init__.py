"""fastnp: the course's numpy deep-learning module, on compiled kernels.

``from fastnp import *`` gives the course's names with the course's
semantics and numbers:

- linear classifier: softmax, cross_entropy_loss, linear_pred
  (linear_predict), linear_cost_func, batch_gradient_descent_func,
  stochastic_gradient_descent_func;
- layers: OutputLayer, ReLU, Sigmoid, Affine, TwoLayerNet.

The kernels behind them are in ``fastnp.kernels.cpu``, and their CUDA twins
in ``fastnp.kernels.cuda``: every function and layer takes device="cpu" or
"cuda" (default: where its arrays live), and TwoLayerNet(..., device="cuda")
trains on the GPU (README, "GPU").

Importing fastnp sets OMP_WAIT_POLICY=passive unless the environment sets it:
numba's OpenMP threads otherwise spin after each parallel kernel and take the
core that BLAS or torch needs next (on a 2-core machine, for milliseconds).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
from fastnp.functional import (  # noqa: E402
    batch_gradient_descent_func,
    cross_entropy_loss,
    linear_cost_func,
    linear_pred,
    linear_predict,
    softmax,
    stochastic_gradient_descent_func,
)
from fastnp.layers import Affine, OutputLayer, ReLU, Sigmoid  # noqa: E402
from fastnp.network import TwoLayerNet  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Affine",
    "OutputLayer",
    "ReLU",
    "Sigmoid",
    "TwoLayerNet",
    "batch_gradient_descent_func",
    "cross_entropy_loss",
    "linear_cost_func",
    "linear_pred",
    "linear_predict",
    "softmax",
    "stochastic_gradient_descent_func",
]
