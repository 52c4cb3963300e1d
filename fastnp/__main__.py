"""The `fastnp` command (also `python -m fastnp`)."""
import argparse
import os
import sys

# numba's and torch's OpenMP threads spin-wait by default; on a 2-core machine a
# spinning pool slows the other library and short parallel kernels.  Set before
# either loads its OpenMP runtime; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastnp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="print the course's reference values computed by fastnp and a small timing table")
    bench = sub.add_parser("bench", help="time fastnp against the textbook numpy version and torch")
    bench.add_argument("--quick", action="store_true", help="fewer repeats, textbook numerical gradient from a slice (< 60 s)")
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    bench.add_argument("--quiet", action="store_true", help="print only the final table")
    bench.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastnp import demo

        return demo.main(args)
    if args.command == "bench":
        from fastnp import bench

        return bench.main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
