"""The ``store-bridge`` command line."""

import argparse
from collections.abc import Sequence

from store_bridge import __version__


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(
        prog="store-bridge",
        description=(
            "Connect a cashier-less store's entry and exit gates, check-in and sessions "
            "to Concierge's access-event model."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run; return the process exit code."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
