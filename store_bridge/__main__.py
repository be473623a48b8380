"""Run the bridge with ``python -m store_bridge``."""

from store_bridge.cli import main

raise SystemExit(main())
