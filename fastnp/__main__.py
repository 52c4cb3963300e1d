"""The `fastnp` command (also `python -m fastnp`)."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastnp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="print the course's reference values computed by fastnp and a small timing table")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastnp import demo

        return demo.main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
