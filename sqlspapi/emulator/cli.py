"""``sqlspapi emulator``: run the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The emulator's command-line options."""
    parser = argparse.ArgumentParser(prog="sqlspapi emulator",
                                     description="Run a local, deterministic, rate-limited SP-API emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0 = any free port)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every rate limit by this factor (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="data generator seed (default 7)")
    parser.add_argument("--orders", type=int, default=2000, help="number of orders to generate (default 2000)")
    parser.add_argument("--token-lifetime", type=float, default=3600.0,
                        help="access token lifetime in seconds (default 3600)")
    parser.add_argument("--items-page-size", type=int, default=100,
                        help="getOrderItems page size (default 100)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until Ctrl-C, return the exit status."""
    from sqlspapi.emulator.server import Emulator

    args = build_parser().parse_args(list(argv) if argv is not None else None)
    if args.time_scale <= 0:
        print("sqlspapi emulator: --time-scale must be > 0", file=sys.stderr)
        return 2
    try:
        emu = Emulator(host=args.host, port=args.port, seed=args.seed, orders=args.orders,
                       time_scale=args.time_scale, token_lifetime=args.token_lifetime,
                       items_page_size=args.items_page_size)
    except OSError as exc:
        print(f"sqlspapi emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"SP-API emulator listening on {emu.url} ({len(emu.orders)} orders, seed {args.seed}, "
          f"time scale {args.time_scale:g})")
    print("Connection string (demo credentials, not secret):")
    print(f"  {emu.connection_string()}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped")
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
