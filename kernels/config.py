"""Knobs shared by the kernel families, in one place."""

#: Below this many scalar operations a kernel runs on one thread.  numba's
#: OpenMP layer spin-waits, so on a 2-core machine a parallel launch over a
#: small batch costs more than it saves (and far more when the other core is
#: busy).  About 0.1 ms of work per call at this size.
PARALLEL_MIN_WORK = 200_000
