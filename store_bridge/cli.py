"""The ``store-bridge`` command line."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from store_bridge import __version__
from store_bridge.checkout_channel import CHILD_COMMAND

MAX_NUMBER = 1e6


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:  # noqa: PLR2004
        msg = f"expected HOST:PORT, e.g. 127.0.0.1:1883 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return host, int(port)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < MAX_NUMBER:
        msg = f"expected a number above 0 and below {MAX_NUMBER:g} (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:  # noqa: PLR2004
        msg = f"expected a port from 0 to 65535 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


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
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the bridge for a store (configuration file)")
    serve.add_argument("--config", "-c", type=Path, required=True, help="the TOML configuration")
    demo = commands.add_parser(
        "demo", help="run a simulated store (two gates, shoppers, SQLite) with nothing to set up"
    )
    demo.add_argument(
        "--port",
        type=_port,
        default=8787,
        help="HTTP port on 127.0.0.1 (default 8787; 0 picks one)",
    )
    demo.add_argument("--capacity", type=int, default=12, help="people inside at most (default 12)")
    demo.add_argument("--duration", type=_positive, help="stop after this many seconds")
    demo.add_argument("--shoppers", type=int, help="stop once this many shoppers came and went")
    demo.add_argument(
        "--speed", type=_positive, default=1.0, help="simulation speed factor (default 1)"
    )
    demo.add_argument("--data", type=Path, help="keep the SQLite file in this folder")
    demo.add_argument(
        "--mqtt", type=_broker, metavar="HOST:PORT", help="publish events to this broker"
    )
    demo.add_argument("--seed", type=int, help="random seed (repeatable shoppers)")
    child = commands.add_parser(CHILD_COMMAND)  # serve's checkout process (no help: hidden)
    child.add_argument("--config", type=Path, required=True)
    child.add_argument("--parent", type=int, required=True)
    privacy = commands.add_parser(
        "privacy", help="what the store holds about one account, or its erasure"
    )
    actions = privacy.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("export", "print everything the store holds about an account (JSON)"),
        ("erase", "erase everything the store holds about an account (idempotent)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument(
            "--config", "-c", type=Path, required=True, help="the TOML configuration"
        )
        action.add_argument(
            "--account",
            required=True,
            metavar="REF|-",
            help="the account reference (as the shopper checked in); '-' (recommended) reads "
            "it from standard input, keeping it out of the process list and shell history",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        return _serve(args)
    if args.command == CHILD_COMMAND:
        from .checkout_process import main as child_main  # noqa: PLC0415

        return child_main(args.config, args.parent)
    if args.command == "privacy":
        from .privacy_cli import run  # noqa: PLC0415

        return run(args.action, args.config, args.account)
    return _demo(parser, args)


def _serve(args: argparse.Namespace) -> int:
    from .config import ConfigError, load_config  # noqa: PLC0415
    from .service import build_bridge, serve  # noqa: PLC0415
    from .single_bridge import AlreadyServingError  # noqa: PLC0415

    try:
        config = load_config(args.config)
        bridge = build_bridge(config, checkout_process=args.config.resolve())
    except ConfigError as err:
        print(f"store-bridge: configuration error: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config, bridge))
    except AlreadyServingError as err:
        print(f"store-bridge: {err}", file=sys.stderr)
        return 3
    except OSError as err:
        print(
            f"store-bridge: {err.strerror or err} (is {config.api_host}:{config.api_port} "
            "in use, or the database folder missing?)",
            file=sys.stderr,
        )
        return 1
    return 0


def _demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .demo import DemoOptions, run_demo  # noqa: PLC0415

    if args.capacity < 1 or (args.shoppers is not None and args.shoppers < 1):
        parser.error("--capacity and --shoppers must be at least 1")
    options = DemoOptions(
        port=args.port,
        capacity=args.capacity,
        duration=args.duration,
        shoppers=args.shoppers,
        speed=args.speed,
        data=args.data,
        mqtt=args.mqtt,
        seed=args.seed,
    )
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        print("\nstore-bridge demo: stopped.")
        return 0
    except OSError as err:
        print(
            f"store-bridge: {err.strerror or err} (is port {args.port} in use? try --port 0)",
            file=sys.stderr,
        )
        return 1
