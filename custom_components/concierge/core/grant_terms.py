"""What a grant holds besides its schedule: the grantee's credentials and the visit policy.

The PIN is a secret: it is checked here (4 to 10 ASCII digits), never shown in a `repr`,
and replaced by `REDACTED` in what diagnostics see.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from . import _parse
from .errors import InvalidGrantError

REDACTED = "**REDACTED**"

_PIN = re.compile(r"[0-9]{4,10}")


class AlarmPolicy(StrEnum):
    """What to do with the site's alarm during a visit."""

    DISARM_FOR_VISIT = "disarm_for_visit"
    LEAVE_ALONE = "leave_alone"


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the grantee proves who they are.

    The PIN is a secret: it never appears in `repr` (and so not in logs).
    """

    pin: str | None = None
    remote_token: bool = False
    guest_link: bool = False

    def __post_init__(self) -> None:
        """Check the PIN: 4 to 10 ASCII digits."""
        pin: object = self.pin
        if pin is not None and (not isinstance(pin, str) or _PIN.fullmatch(pin) is None):
            raise InvalidGrantError(translation_key="invalid_pin")

    def __repr__(self) -> str:
        """Show whether a PIN is set, never the PIN itself."""
        pin = "<set>" if self.pin is not None else None
        return (
            f"Credentials(pin={pin}, remote_token={self.remote_token}, "
            f"guest_link={self.guest_link})"
        )

    def to_dict(self, *, redact: bool = False) -> dict[str, object]:
        """Serialise for storage; `redact` replaces the PIN (for diagnostics)."""
        pin = REDACTED if redact and self.pin is not None else self.pin
        return {"pin": pin, "remote_token": self.remote_token, "guest_link": self.guest_link}

    @classmethod
    def from_dict(cls, data: object) -> Credentials:
        """Rebuild from `to_dict` output."""
        obj = _parse.as_mapping(data, "credentials")
        return cls(
            pin=_parse.get_opt_str(obj, "pin", "credentials"),
            remote_token=_parse.get_bool(obj, "remote_token", "credentials"),
            guest_link=_parse.get_bool(obj, "guest_link", "credentials"),
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """Conditions and side effects of a visit under the grant."""

    alarm: AlarmPolicy = AlarmPolicy.DISARM_FOR_VISIT
    require_camera: bool = False
    refuse_when_pets_home: bool = False
    notify: bool = True

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {
            "alarm": self.alarm.value,
            "require_camera": self.require_camera,
            "refuse_when_pets_home": self.refuse_when_pets_home,
            "notify": self.notify,
        }

    @classmethod
    def from_dict(cls, data: object) -> Policy:
        """Rebuild from `to_dict` output."""
        obj = _parse.as_mapping(data, "policy")
        return cls(
            alarm=_parse.get_enum(obj, "alarm", AlarmPolicy, "policy"),
            require_camera=_parse.get_bool(obj, "require_camera", "policy"),
            refuse_when_pets_home=_parse.get_bool(obj, "refuse_when_pets_home", "policy"),
            notify=_parse.get_bool(obj, "notify", "policy"),
        )
