"""Tiled matrix multiply with register blocking and fused epilogues.

out (M, N) = op(a) @ op(b), op(a): (M, K), op(b): (K, N), where a is stored
(M, K), or (K, M) with trans_a, and b is stored (K, N), or (N, K) with
trans_b, all C-contiguous: the affine layer's three products are
    forward  x @ W          (no transposes)
    dx     = dout @ W.T     (trans_b)
    dW     = x.T @ dout     (trans_a)
without copying a transpose.

Launch (config.MATMUL_TILE = BM, BN, BK, TM, TN): one block per BM x BN tile
of out, TY * TX threads (TY = BM / TM, TX = BN / TN), each accumulating a
TM x TN block in registers (local arrays indexed by unrolled constants).
Thread (ty, tx) owns the rows ty + i * TY and the columns tx + j * TX of
the tile, strided rather than adjacent: for a given j a warp's threads then
read consecutive words of shared memory (no bank conflicts) and write
consecutive columns of out (coalesced).  Per step of BK along K, the
block's threads load the BM x BK slice of op(a) and the BK x BN slice of
op(b) into shared memory (as_[k, m], bs[k, n], rows padded by PAD words so
the transposing stores of a non-transposed a spread over the banks),
synchronize, and each does BK * TM * TN multiply-adds from them:
2 * TM * TN / (TM + TN) flops per shared-memory value loaded.  Global
loads walk the contiguous dimension of the stored array across
neighbouring threads (coalesced) whatever the transpose.  Ragged edges:
out-of-range loads read 0 and out-of-range outputs are not written, so any
M, N, K work.

Epilogues, applied once per output element:
    "store"       out = acc
    "bias"        out = acc + bias[n]
    "bias_relu"   v = acc + bias[n]; mask = (v <= 0); out = 0 where mask else v
    "relu_grad"   out = 0 where mask else acc        (dx of a ReLU'd affine input)
    "axpy"        out += alpha * acc                 (the SGD update, dW never stored)
"""
import functools

import numpy as np
from numba import cuda, float32, float64

from . import config

EPILOGUES = ("store", "bias", "bias_relu", "relu_grad", "axpy")

#: Words of padding per shared-memory tile row (see the module docstring).
PAD = 4


@functools.lru_cache(maxsize=None)
def _kernel(dtype_name, trans_a, trans_b, epilogue, tile):
    BM, BN, BK, TM, TN = tile
    if BM % TM or BN % TN:
        raise ValueError(f"tile {tile}: BM must be a multiple of TM and BN of TN")
    dtype = float32 if dtype_name == "float32" else float64
    TX, TY = BN // TN, BM // TM  # threads along N and along M
    threads = TY * TX
    A_ROW, B_ROW = BM + PAD, BN + PAD  # padded shared rows (compile-time constants)
    with_bias = epilogue in ("bias", "bias_relu")
    relu_out = epilogue == "bias_relu"
    relu_in = epilogue == "relu_grad"
    accumulate = epilogue == "axpy"

    @cuda.jit
    def kernel(out, a, b, bias, mask, alpha):
        as_ = cuda.shared.array((BK, A_ROW), dtype)
        bs = cuda.shared.array((BK, B_ROW), dtype)
        acc = cuda.local.array((TM, TN), dtype)
        a_reg = cuda.local.array(TM, dtype)
        b_reg = cuda.local.array(TN, dtype)
        M, N = out.shape
        K = a.shape[0] if trans_a else a.shape[1]
        tid = cuda.threadIdx.x
        ty, tx = tid // TX, tid % TX
        m0, n0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = 0.0
        for k0 in range(0, K, BK):
            for l in range(tid, BM * BK, threads):
                if trans_a:  # a: (K, M), consecutive threads along m
                    kk, r = l // BM, l % BM
                    ok = k0 + kk < K and m0 + r < M
                    as_[kk, r] = a[k0 + kk, m0 + r] if ok else 0.0
                else:  # a: (M, K), consecutive threads along k
                    r, kk = l // BK, l % BK
                    ok = k0 + kk < K and m0 + r < M
                    as_[kk, r] = a[m0 + r, k0 + kk] if ok else 0.0
            for l in range(tid, BK * BN, threads):
                if trans_b:  # b: (N, K), consecutive threads along k
                    c, kk = l // BK, l % BK
                    ok = k0 + kk < K and n0 + c < N
                    bs[kk, c] = b[n0 + c, k0 + kk] if ok else 0.0
                else:  # b: (K, N), consecutive threads along n
                    kk, c = l // BN, l % BN
                    ok = k0 + kk < K and n0 + c < N
                    bs[kk, c] = b[k0 + kk, n0 + c] if ok else 0.0
            cuda.syncthreads()
            for kk in range(BK):
                for i in range(TM):
                    a_reg[i] = as_[kk, ty + i * TY]
                for j in range(TN):
                    b_reg[j] = bs[kk, tx + j * TX]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(TM):
            r = m0 + ty + i * TY
            if r < M:
                for j in range(TN):
                    c = n0 + tx + j * TX
                    if c < N:
                        v = acc[i, j]
                        if with_bias:
                            v += bias[c]
                        if relu_out:
                            dead = v <= 0.0
                            mask[r, c] = dead
                            v = 0.0 if dead else v
                        if relu_in:
                            v = 0.0 if mask[r, c] else v
                        if accumulate:
                            out[r, c] += alpha * v
                        else:
                            out[r, c] = v

    return kernel, threads


def matmul(out, a, b, *, trans_a=False, trans_b=False, epilogue="store", bias=None, mask=None, alpha=1.0):
    """out = op(a) @ op(b) with an epilogue (module docstring).  Device arrays of one float dtype.

    bias: (N,) for "bias" and "bias_relu"; mask: (M, N) bool, written by
    "bias_relu" and read by "relu_grad"; alpha: the scale of "axpy".
    """
    if epilogue not in EPILOGUES:
        raise ValueError(f"epilogue must be one of {EPILOGUES}, got {epilogue!r}")
    dtype_name = np.dtype(out.dtype).name
    tile = config.MATMUL_TILE[dtype_name]
    kernel, threads = _kernel(dtype_name, trans_a, trans_b, epilogue, tuple(tile))
    M, N = out.shape
    BM, BN = tile[0], tile[1]
    # Unused arguments still need a typed array: a 1-element placeholder.
    bias = _placeholder(out.dtype) if bias is None else bias
    mask = _placeholder(np.bool_).reshape(1, 1) if mask is None else mask
    kernel[(-(-N // BN), -(-M // BM)), threads](out, a, b, bias, mask, alpha)


@functools.lru_cache(maxsize=None)
def _placeholder_cached(dtype_name):
    return cuda.device_array(1, np.dtype(dtype_name))


def _placeholder(dtype):
    return _placeholder_cached(np.dtype(dtype).name)
