"""Tiled matrix multiply with register blocking, split-K and fused epilogues.

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
block's threads store the BM x BK slice of op(a) and the BK x BN slice of
op(b) into shared memory (as_[k, m], bs[k, n], rows padded by PAD words so
the transposing stores of a non-transposed a spread over the banks),
synchronize, and each does BK * TM * TN multiply-adds from them:
2 * TM * TN / (TM + TN) flops per shared-memory value loaded.  The next
slices are loaded from global memory into registers before that arithmetic
starts, so their latency hides behind it (a block of 256 threads at 100+
registers each leaves few warps per SM to hide it otherwise).  Global
loads walk the contiguous dimension of the stored array across
neighbouring threads (coalesced) whatever the transpose.  Ragged edges:
out-of-range loads read 0 and out-of-range outputs are not written, so any
M, N, K work.

Split-K: when out has too few tiles to fill the GPU (fewer than
config.SPLIT_K_MIN_TILES; the course's batch-100 products have 8), the K
range is cut into S chunks, one grid layer (blockIdx.z) each, that write
partial products to a scratch (S, M, N) array; a second kernel adds the S
partials in order (the result does not depend on scheduling) and applies
the epilogue.

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
from ._launch import grid_1d, reused_buffer

EPILOGUES = ("store", "bias", "bias_relu", "relu_grad", "axpy")

#: Words of padding per shared-memory tile row (see the module docstring).
PAD = 4


def _epilogue_function(epilogue):
    """A device function (out, r, c, v, bias, mask, alpha) that writes one output element."""
    with_bias = epilogue in ("bias", "bias_relu")
    relu_out = epilogue == "bias_relu"
    relu_in = epilogue == "relu_grad"
    accumulate = epilogue == "axpy"

    @cuda.jit(device=True)
    def apply(out, r, c, v, bias, mask, alpha):
        if with_bias:
            v += bias[c]
        if relu_out:
            dead = v <= 0.0
            mask[r, c] = dead
            if dead:
                v = 0.0
        if relu_in and mask[r, c]:
            v = 0.0
        if accumulate:
            out[r, c] += alpha * v
        else:
            out[r, c] = v

    return apply


@functools.lru_cache(maxsize=None)
def _kernel(dtype_name, trans_a, trans_b, epilogue, tile, split):
    """The tiled kernel; with `split` it writes raw partial products to partial[blockIdx.z]
    (whatever the epilogue: _finish_kernel applies it, so matmul asks for split kernels as "store")."""
    BM, BN, BK, TM, TN = tile
    TX, TY = BN // TN, BM // TM  # threads along N and along M
    threads = TY * TX
    if BM % TM or BN % TN or (BM * BK) % threads or (BN * BK) % threads:
        raise ValueError(f"tile {tile}: BM, BN must be multiples of TM, TN, and BM * BK, BN * BK of the threads")
    A_PER, B_PER = BM * BK // threads, BN * BK // threads  # elements each thread stages per step
    A_ROW, B_ROW = BM + PAD, BN + PAD  # padded shared rows (compile-time constants)
    dtype = float32 if dtype_name == "float32" else float64
    apply = _epilogue_function("store" if split else epilogue)

    @cuda.jit(device=True)
    def load_a(a_pre, a, k0, k_hi, m0, M, tid):
        for q in range(A_PER):
            e = tid + q * threads  # the tile element this thread moves
            if trans_a:  # a: (K, M), consecutive threads along m
                kk, r = e // BM, e % BM
                a_pre[q] = a[k0 + kk, m0 + r] if k0 + kk < k_hi and m0 + r < M else 0.0
            else:  # a: (M, K), consecutive threads along k
                r, kk = e // BK, e % BK
                a_pre[q] = a[m0 + r, k0 + kk] if k0 + kk < k_hi and m0 + r < M else 0.0

    @cuda.jit(device=True)
    def load_b(b_pre, b, k0, k_hi, n0, N, tid):
        for q in range(B_PER):
            e = tid + q * threads
            if trans_b:  # b: (N, K), consecutive threads along k
                c, kk = e // BK, e % BK
                b_pre[q] = b[n0 + c, k0 + kk] if k0 + kk < k_hi and n0 + c < N else 0.0
            else:  # b: (K, N), consecutive threads along n
                kk, c = e // BN, e % BN
                b_pre[q] = b[k0 + kk, n0 + c] if k0 + kk < k_hi and n0 + c < N else 0.0

    @cuda.jit
    def kernel(out, partial, a, b, bias, mask, alpha, k_chunk):
        as_ = cuda.shared.array((BK, A_ROW), dtype)
        bs = cuda.shared.array((BK, B_ROW), dtype)
        acc = cuda.local.array((TM, TN), dtype)
        a_reg = cuda.local.array(TM, dtype)
        b_reg = cuda.local.array(TN, dtype)
        a_pre = cuda.local.array(A_PER, dtype)
        b_pre = cuda.local.array(B_PER, dtype)
        M, N = out.shape
        K = a.shape[0] if trans_a else a.shape[1]
        k_lo = cuda.blockIdx.z * k_chunk
        k_hi = min(K, k_lo + k_chunk)
        tid = cuda.threadIdx.x
        ty, tx = tid // TX, tid % TX
        m0, n0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = 0.0
        load_a(a_pre, a, k_lo, k_hi, m0, M, tid)
        load_b(b_pre, b, k_lo, k_hi, n0, N, tid)
        for k0 in range(k_lo, k_hi, BK):
            for q in range(A_PER):
                e = tid + q * threads
                if trans_a:
                    as_[e // BM, e % BM] = a_pre[q]
                else:
                    as_[e % BK, e // BK] = a_pre[q]
            for q in range(B_PER):
                e = tid + q * threads
                if trans_b:
                    bs[e % BK, e // BK] = b_pre[q]
                else:
                    bs[e // BN, e % BN] = b_pre[q]
            cuda.syncthreads()
            if k0 + BK < k_hi:  # the next slices, in flight during the arithmetic below
                load_a(a_pre, a, k0 + BK, k_hi, m0, M, tid)
                load_b(b_pre, b, k0 + BK, k_hi, n0, N, tid)
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
                        if split:
                            partial[cuda.blockIdx.z, r, c] = acc[i, j]
                        else:
                            apply(out, r, c, acc[i, j], bias, mask, alpha)

    return kernel, threads


@functools.lru_cache(maxsize=None)
def _finish_kernel(epilogue):
    """out[r, c] = epilogue(sum over s of partial[s, r, c]), the sum in order of s."""
    apply = _epilogue_function(epilogue)

    @cuda.jit
    def kernel(out, partial, bias, mask, alpha):
        M, N = out.shape
        for e in range(cuda.grid(1), M * N, cuda.gridsize(1)):
            r, c = e // N, e % N
            v = partial[0, r, c]
            for s in range(1, partial.shape[0]):
                v += partial[s, r, c]
            apply(out, r, c, v, bias, mask, alpha)

    return kernel


def split_count(M, N, K, tile):
    """How many K chunks (grid layers) a product of this shape gets (see the module docstring)."""
    BM, BN, BK = tile[:3]
    tiles = -(-M // BM) * -(-N // BN)
    if tiles >= config.SPLIT_K_MIN_TILES:
        return 1
    by_work = -(-K // (BK * config.SPLIT_K_MIN_STEPS))  # each chunk keeps at least that many steps
    return max(1, min(-(-config.SPLIT_K_TARGET_BLOCKS // tiles), by_work))


def _split_scratch(shape, dtype):
    """The (S, M, N) partial-product buffer, reused between calls (_launch.reused_buffer)."""
    size = shape[0] * shape[1] * shape[2]
    return reused_buffer(("split-k", np.dtype(dtype).name), size, dtype).reshape(shape)


def matmul(out, a, b, *, trans_a=False, trans_b=False, epilogue="store", bias=None, mask=None, alpha=1.0):
    """out = op(a) @ op(b) with an epilogue (module docstring).  Device arrays of one float dtype.

    bias: (N,) for "bias" and "bias_relu"; mask: (M, N) bool, written by
    "bias_relu" and read by "relu_grad"; alpha: the scale of "axpy".
    """
    if epilogue not in EPILOGUES:
        raise ValueError(f"epilogue must be one of {EPILOGUES}, got {epilogue!r}")
    dtype_name = np.dtype(out.dtype).name
    tile = tuple(config.MATMUL_TILE[dtype_name])
    M, N = out.shape
    K = a.shape[0] if trans_a else a.shape[1]
    # Unused arguments still need a typed array: a 1-element placeholder.
    bias = _placeholder(out.dtype) if bias is None else bias
    mask = _placeholder(np.bool_).reshape(1, 1) if mask is None else mask
    tiles_n, tiles_m = -(-N // tile[1]), -(-M // tile[0])
    splits = split_count(M, N, K, tile)
    if splits == 1:
        kernel, threads = _kernel(dtype_name, trans_a, trans_b, epilogue, tile, False)
        kernel[(tiles_n, tiles_m, 1), threads](out, _placeholder(out.dtype).reshape(1, 1, 1), a, b, bias, mask,
                                               alpha, K)
        return
    k_chunk = -(-K // splits)
    k_chunk = -(-k_chunk // tile[2]) * tile[2]  # whole BK steps per chunk
    splits = -(-K // k_chunk)
    partial = _split_scratch((splits, M, N), out.dtype)
    kernel, threads = _kernel(dtype_name, trans_a, trans_b, "store", tile, True)
    kernel[(tiles_n, tiles_m, splits), threads](out, partial, a, b, bias, mask, alpha, k_chunk)
    blocks, threads = grid_1d(M * N)
    _finish_kernel(epilogue)[blocks, threads](out, partial, bias, mask, alpha)


@functools.lru_cache(maxsize=None)
def _placeholder_cached(dtype_name):
    return cuda.device_array(1, np.dtype(dtype_name))


def _placeholder(dtype):
    return _placeholder_cached(np.dtype(dtype).name)
