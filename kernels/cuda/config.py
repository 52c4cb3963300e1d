"""Launch knobs of the CUDA kernels, in one place.

The kernels read these at launch time, and kernels with per-block shared
memory are built per setting, so tests can patch them down to a handful of
threads: a small array then spans several blocks with ragged edges, and the
CUDA simulator (one Python thread per GPU thread) stays fast.
"""

#: Threads per block of the 1-D kernels (elementwise, flat and wide-row
#: reductions; narrow rows take ROW_THREADS).  A power of two: the block
#: reductions halve it.  256 keeps
#: 8 warps per block, enough to hide memory latency with several blocks per SM.
THREADS = 256

#: Blocks of a grid-stride launch at most: about 120 per SM of an H100 (132
#: SMs).  Beyond that the grid-stride loops walk the rest; a cap much lower
#: leaves a second, partial wave of blocks at the end of a large launch.
MAX_BLOCKS = 16384

#: Kernels that leave one partial result per block (the fused loss) launch
#: at most this many blocks (16 per SM of an H100's 132) and walk the rest by
#: grid stride: the partials, which the last block then adds up, stay few.
#: Sweeps of 528-4224 on an H100 moved the loss kernels 15% at most.  Since
#: the loss-only kernel lost a quarter of its instructions (run 16), 2112
#: runs it in 19.2-19.8 us against 20.0-20.3 at 1056 (the issue's target is
#: 20), the fused one-hot kernel in 72.3-72.5 against 69.5-69.9, the fused
#: labels one in 48.9-49.3 against 49.3-49.6 (10^6 x 10 float32, runs 16-17
#: in benchmarks/gpu/RESULTS.md).  One cap for all: the same rows per block,
#: so loss-only and fused give the same bits.
PARTIAL_MAX_BLOCKS = 2112

#: Rows up to this many columns get one thread each, the row in registers
#: (kernels built per column count: up to about 20 columns their loops
#: unroll without local memory, which the compile tier checks at 16); wider
#: rows get one block each, with the row's max and sum reduced in shared
#: memory.
NARROW_COLUMNS = 16

#: Matrix-multiply tiles (BM, BN, BK, TM, TN): a block computes a BM x BN
#: tile of the output, stepping BK along the inner dimension through shared
#: memory; each of its (BM / TM) * (BN / TN) threads keeps a TM x TN block of
#: the tile in registers.  64 x 64 x 8 with 4 x 4 per thread (256 threads,
#: 72 registers, so several blocks share an SM) was the fastest of six
#: shapes on an H100 at 4096^3 (benchmarks/gpu/gpu_bench.py): 15.3 TFLOP/s
#: in float32 against 9.3 for 128 x 128 with 8 x 8 per thread (168
#: registers: one block per SM), and 12.8 TFLOP/s in float64.
MATMUL_TILE = {"float32": (64, 64, 8, 4, 4), "float64": (64, 64, 8, 4, 4)}

#: Finish block reductions with warp shuffles once 32 values are left (no
#: shared memory or block barrier for the last five halvings).  The CUDA
#: simulator has no shuffles, so the shared-memory path is what it tests; the
#: real-GPU tests run both.
WARP_SHUFFLE = True

#: Column sums (the bias gradient db): blocks of (columns, row groups)
#: threads.  Each thread adds every ROW_GROUPS-th row of its column (a warp
#: reads 32 consecutive columns of one row: coalesced), then the block
#: reduces its row groups in shared memory.
COLUMN_BLOCK = (32, 8)

#: Split-K (matmul.py): products with fewer output tiles than this are cut
#: along K into chunks of at least SPLIT_K_MIN_STEPS steps of BK, aiming at
#: SPLIT_K_TARGET_BLOCKS blocks in all (two per SM of an H100's 132).
SPLIT_K_MIN_TILES = 132
SPLIT_K_TARGET_BLOCKS = 264
SPLIT_K_MIN_STEPS = 16

#: Narrow-row kernels (one row per thread) stage each tile of rows through
#: shared memory by groups of this many threads, a warp, each group its own
#: rows with its own barrier (syncwarp) instead of the block's
#: (softmax.row_stager).  On an H100 at 10^6 x 10 float32 and 256 threads
#: this took the fused loss from 89 to 74 us and softmax rows from 42 to 37
#: (RESULTS.md, runs 11 and 12).  A power of two up to 32: tests patch it
#: down so that a small block holds several groups.
STAGE_GROUP = 32

#: Shared memory for one staged array of a narrow-row tile (the fused loss
#: stages scores and one-hot targets, beside its reduction buffer, within the
#: 48 KB a block may declare statically): one row per thread up to this size,
#: so 256 threads take 256 rows of up to 16 float32 or 10 float64 columns.
STAGE_BYTES = 20 * 1024

#: Threads per block of the narrow-row kernels (softmax rows and the fused
#: loss at up to NARROW_COLUMNS classes, one row per thread; a power of
#: two, for the block reduction of the loss): on an H100 at
#: 10^6 x 10 float32, 128 ran the fused loss in 70 us against 74 at 256 and
#: 87 at 512, softmax rows in 34 us against 37 and 57 (RESULTS.md, run 12).
ROW_THREADS = 128

#: The loss-only kernel reads float32 rows of an even length as 8-byte words,
#: two scores each (24.1 us against 25.5 at 10^6 x 10 on an H100, run 13).
LOSS_PAIR_READS = True

#: Linear-classifier loops whose batch is small (rows <= THREADS, rows x
#: classes <= SMALL_BATCH_SCORES, classes <= SMALL_BATCH_CLASSES) run as one
#: single-block launch for all their updates (linear_classifier.py): the
#: per-update work (10 x 3072 x 10 at the course's SGD) is far below what
#: several launches per update cost.  Its static shared memory, in float64:
#: 8 * (SMALL_BATCH_SCORES + THREADS * (classes + 1)) bytes, 42 KB at most
#: here, under the 48 KB a block may declare statically.
SMALL_BATCH_SCORES = 1024
SMALL_BATCH_CLASSES = 16
