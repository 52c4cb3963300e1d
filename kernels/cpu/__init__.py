"""numba CPU kernels.  Every public name here gets a CUDA twin of the same
name and signature in ``fastnp.kernels.cuda``.

Shapes: N rows (samples), D or K input features, H hidden units, M or C
outputs/classes.  Outputs come first in every signature.
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
