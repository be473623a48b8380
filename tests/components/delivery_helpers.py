"""A home for in-home delivery tests: a real `manual` alarm panel (code required), a real
`local_file` camera, a pets-at-home switch, a carrier with real keys, and token makers.

Only the carrier's signing service is stood in for: tests sign tokens with a key pair
generated here, exactly as a carrier's system would.
"""

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN

ALARM = "alarm_control_panel.house"
CAMERA = "camera.porch"
PETS = "binary_sensor.pets_home"
ALARM_CODE = "4711"
CARRIER = "parcelco"

JPEG = b"\xff\xd8\xff\xe0concierge test picture\xff\xd9"
"""What the porch camera shows (local_file serves the file as it is)."""


class Carrier:
    """A carrier's signing side: an ES256 key pair; the public half is registered."""

    def __init__(self, carrier_id: str = CARRIER) -> None:
        """Generate the carrier's key."""
        self.carrier_id = carrier_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def token(
        self,
        site: str,
        *,
        now: datetime,
        lifetime: int = 120,
        jti: str | None = None,
        **claims: Any,
    ) -> str:
        """Sign a courier token for `site` valid from `now` for `lifetime` seconds."""
        start = int(now.timestamp())
        payload = {
            "iss": self.carrier_id,
            "aud": site,
            "sub": "delivery-0815",
            "jti": jti or uuid.uuid4().hex,
            "nbf": start,
            "iat": start,
            "exp": start + lifetime,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="ES256")

    def subentry(self) -> ConfigSubentryData:
        """The carrier as the owner registers it (a config subentry)."""
        from custom_components.concierge.core.carriers import parse_public_key  # noqa: PLC0415

        key = parse_public_key(self.public_pem)
        return ConfigSubentryData(
            data={
                "carrier_id": self.carrier_id,
                "name": "Parcel Co",
                "keys": [key.to_dict()],
            },
            subentry_type="carrier",
            title="Parcel Co",
            unique_id=self.carrier_id,
        )


async def setup_house(hass: HomeAssistant, tmp_path: Path, *, camera: bool = True) -> None:
    """The alarm panel (armed away, code required, no delays), the camera, the pets switch."""
    await async_setup_component(
        hass,
        "alarm_control_panel",
        {
            "alarm_control_panel": [
                {
                    "platform": "manual",
                    "name": "House",
                    "code": ALARM_CODE,
                    "arming_time": 0,
                    "delay_time": 0,
                    "trigger_time": 60,
                    "disarm_after_trigger": False,
                }
            ]
        },
    )
    # The pets' presence comes from some other integration (a tag tracker, a pet door).
    hass.states.async_set(PETS, "off", {"device_class": "presence"})
    await hass.async_block_till_done()
    await hass.services.async_call(
        "alarm_control_panel",
        "alarm_arm_away",
        {"entity_id": ALARM, "code": ALARM_CODE},
        blocking=True,
    )
    assert hass.states.get(ALARM).state == "armed_away"
    if camera:
        picture = tmp_path / "porch.jpg"
        await hass.async_add_executor_job(picture.write_bytes, JPEG)
        camera_entry = MockConfigEntry(
            domain="local_file", title="Porch", options={"name": "Porch", "file_path": str(picture)}
        )
        camera_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(camera_entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get(CAMERA) is not None


def site_options(**overrides: Any) -> dict[str, Any]:
    """The site's options: alarm linked with Concierge's code, short safety timeouts."""
    return {
        "notify": [],
        "alarm_panel": ALARM,
        "alarm_code": ALARM_CODE,
        "alarm_timeout": 5,
        "fallback_arm_mode": "armed_home",
        "lock_timeout": 5,
        "door_open_timeout": 120,
        "door_held_open": 300,
        "pets_home_entity": PETS,
    } | overrides


def site_data(lock: str, door_sensor: str | None, cameras: list[str]) -> dict[str, Any]:
    """One front door with the given lock, contact and cameras."""
    return {
        "site_name": "Home",
        "portals": [
            {
                "id": "front",
                "name": "Front door",
                "lock": lock,
                "door_sensor": door_sensor,
                "cameras": cameras,
            }
        ],
    }


async def add_site(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    options: Mapping[str, Any],
    carrier: Carrier | None = None,
) -> MockConfigEntry:
    """Load a Concierge site (with the carrier registered, when given)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    # Guest links need an address a guest's phone can reach.
    await hass.config.async_update(external_url=EXTERNAL_URL)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data=dict(data),
        options=dict(options),
        subentries_data=[carrier.subentry()] if carrier else [],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


EXTERNAL_URL = "https://home.example.org"
"""The external URL of the sites `add_site` loads (guest links start with it)."""


def courier_url(entry: MockConfigEntry) -> str:
    """The courier endpoint of a site."""
    return f"/api/concierge/{entry.entry_id}/courier"


def guest_url(entry: MockConfigEntry) -> str:
    """The guest page of a site."""
    return f"/api/concierge/{entry.entry_id}/guest"


def unverified_claims(token: str) -> dict[str, Any]:
    """Read a JWT's payload without checking it (to build tampered tokens)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def window(now: datetime, hours: int = 2) -> tuple[str, str]:
    """A one-off window around `now`, as `create_grant` takes it."""
    start = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    end = (now + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")
    return start, end


def said(events: list[dict[str, Any]]) -> str:
    """What the events say, without their generated ids, times and digests.

    Ids (hex, ULIDs), times and SHA-256 digests are random digits and letters that may
    contain any short number by chance; a secret must not appear in anything else.
    """
    parts: list[str] = []
    for event in events:
        generated = {str(event.get(k)) for k in ("id", "site", "grant", "visit") if event.get(k)}
        text = str({k: v for k, v in event.items() if k not in {"id", "site", "grant", "visit",
                                                               "time", "evidence"}})  # fmt: skip
        for evidence in event.get("evidence", []):
            ref = str(evidence["ref"])
            for value in generated:
                ref = ref.replace(value, "")
            text += ref
        parts.append(text)
    return "\n".join(parts)
