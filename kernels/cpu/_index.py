"""Integer arguments for calls between kernels."""
import numpy as np

#: 0 for a row index or count that one kernel passes to another.  numba
#: compiles a separate specialization of the callee for each literal integer
#: it is passed (`Literal[int](0)` beside `int64`), a second or more of
#: compilation each; an np.int64 global is a plain int64.
ZERO = np.int64(0)
