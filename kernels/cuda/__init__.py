"""numba-cuda kernels: the CUDA twin of every kernel in fastnp.kernels.cpu,
with the same name, signature and meaning, taking device arrays (numba
device arrays, or anything with __cuda_array_interface__ that
numba.cuda.as_cuda_array accepts).

Needs NVIDIA's numba-cuda package (``pip install fastnp[cuda]``); import
this module only after checking that (fastnp._device does).  Launch
settings are in .config; under NUMBA_ENABLE_CUDASIM=1 every kernel runs in
numba's CUDA simulator.  Functions that return a float (a loss, a sum) wait
for the device; the rest only queue work on the default stream.
"""
from .accuracy import count_correct
from .affine import (
    affine_backward_input,
    affine_backward_params,
    affine_forward,
    affine_relu_backward_input,
    affine_relu_forward,
    column_sums,
)
from .axpy import add_scaled, axpy, sum_of_squares
from .cross_entropy import LOG_GUARD, cross_entropy
from .linear_classifier import batch_gradient_descent, stochastic_gradient_descent
from .numerical_gradient import two_layer_numerical_gradient
from .relu import relu_backward, relu_forward
from .sigmoid import sigmoid_backward, sigmoid_forward
from .softmax import softmax_rows
from .softmax_cross_entropy import (
    softmax_cross_entropy,
    softmax_cross_entropy_loss,
    softmax_cross_entropy_loss_to,
    softmax_cross_entropy_rows,
    softmax_cross_entropy_to,
)

__all__ = [
    "LOG_GUARD",
    "affine_backward_input",
    "affine_backward_params",
    "affine_forward",
    "affine_relu_backward_input",
    "affine_relu_forward",
    "add_scaled",
    "axpy",
    "batch_gradient_descent",
    "column_sums",
    "count_correct",
    "cross_entropy",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_loss",
    "softmax_cross_entropy_loss_to",
    "softmax_cross_entropy_rows",
    "softmax_cross_entropy_to",
    "softmax_rows",
    "stochastic_gradient_descent",
    "sum_of_squares",
    "two_layer_numerical_gradient",
]
