"""Seed a new development instance's storage so its first start is quiet.

scripts/develop runs this before Home Assistant starts, with the config directory:

- `.storage/http`: serve on 127.0.0.1:8123 only. An `http:` section in configuration.yaml
  would do the same, but Home Assistant now migrates it into storage as a configuration to
  confirm at the first login and raises a deprecation repair for it.
- `.storage/onboarding`: the "core_config" step counts as done (configuration.yaml sets
  location and units). Finishing it through the API sets up Met.no (a weather error every
  minute without internet), Google Translate text-to-speech (whose tts pulls in ffmpeg,
  a traceback without the binary), Radio Browser and a shopping list.
- `.storage/core.config`: the external URL http://127.0.0.1:8123, which guest links start
  with (Concierge refuses them without one). Home Assistant reads this store first and then
  applies configuration.yaml's `homeassistant:` keys over it, so the two combine; the URL is
  kept out of the YAML so that a change through the API is not undone at the next start.

A file that is already there is left alone. All are written from Home Assistant's own
schema and constants, so a change of their format fails here, not silently.

    develop_seed.py --config-dir config
"""

import argparse
import json
from pathlib import Path
from typing import Any

from homeassistant.components.http.config import (
    HTTP_STORAGE_SCHEMA,
    KEY_PENDING,
    KEY_STABLE,
    KEY_YAML_MIGRATION_DONE,
)
from homeassistant.components.http.config import STORAGE_KEY as HTTP_KEY
from homeassistant.components.http.config import STORAGE_MINOR_VERSION as HTTP_MINOR_VERSION
from homeassistant.components.http.config import STORAGE_VERSION as HTTP_VERSION
from homeassistant.components.onboarding import STORAGE_KEY as ONBOARDING_KEY
from homeassistant.components.onboarding import STORAGE_VERSION as ONBOARDING_VERSION
from homeassistant.components.onboarding.const import STEP_CORE_CONFIG
from homeassistant.const import DEFAULT_RADIUS
from homeassistant.core_config import (
    CORE_STORAGE_KEY,
    CORE_STORAGE_MINOR_VERSION,
    CORE_STORAGE_VERSION,
)
from homeassistant.util import dt as dt_util

HOST = "127.0.0.1"
PORT = 8123


def http_store() -> dict[str, Any]:
    """The HTTP configuration: confirmed (stable), nothing pending, no YAML to migrate."""
    stable = {
        **HTTP_STORAGE_SCHEMA({"server_host": [HOST], "server_port": PORT}),
        "created_at": dt_util.utcnow().isoformat(),
        "error": None,
        "error_message": None,
    }
    return {
        "version": HTTP_VERSION,
        "minor_version": HTTP_MINOR_VERSION,
        "key": HTTP_KEY,
        "data": {KEY_STABLE: stable, KEY_PENDING: None, KEY_YAML_MIGRATION_DONE: True},
    }


def onboarding_store() -> dict[str, Any]:
    """Onboarding with only the core configuration step done."""
    return {
        "version": ONBOARDING_VERSION,
        "minor_version": 1,
        "key": ONBOARDING_KEY,
        "data": {"done": [STEP_CORE_CONFIG]},
    }


def core_config_store() -> dict[str, Any]:
    """The core configuration with only the external URL (and the required radius).

    Everything else stays unset here: configuration.yaml's `homeassistant:` keys set it.
    """
    return {
        "version": CORE_STORAGE_VERSION,
        "minor_version": CORE_STORAGE_MINOR_VERSION,
        "key": CORE_STORAGE_KEY,
        "data": {"external_url": f"http://{HOST}:{PORT}", "radius": DEFAULT_RADIUS},
    }


def seed(config_dir: Path) -> list[str]:
    """Write what is missing; return the keys written."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    written = []
    for key, content in (
        (HTTP_KEY, http_store()),
        (ONBOARDING_KEY, onboarding_store()),
        (CORE_STORAGE_KEY, core_config_store()),
    ):
        path = storage / key
        if path.exists():
            continue
        path.write_text(json.dumps(content, indent=2) + "\n")
        written.append(key)
    return written


def main() -> None:
    """Seed the storage of the config directory given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-dir", type=Path, required=True)
    args = parser.parse_args()
    for key in seed(args.config_dir):
        print(f"develop: seeded .storage/{key}", flush=True)


if __name__ == "__main__":
    main()
