"""A store's devices and signals: the store's device, one per gate, kept as the bridge lists them.

Each gate the bridge names gets a device below the store's (added by the platforms, on
`signal_new_gates`); a gate the bridge renames is renamed; the device of a gate the
bridge no longer lists goes, and its entities with it.
"""

from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .core.stores import Gate


def signal_store_update(entry_id: str) -> str:
    """Dispatcher signal: a store's availability, occupancy or gate passages changed."""
    return f"{DOMAIN}_{entry_id}_store_update"


def signal_new_gates(entry_id: str) -> str:
    """Dispatcher signal that announces gates the bridge names for the first time."""
    return f"{DOMAIN}_{entry_id}_new_gates"


def store_device_id(entry_id: str) -> tuple[str, str]:
    """Device registry identifier of a store."""
    return (DOMAIN, entry_id)


def gate_device_id(entry_id: str, gate_id: str) -> tuple[str, str]:
    """Device registry identifier of a store's gate."""
    return (DOMAIN, f"{entry_id}_gate_{gate_id}")


def gate_ids(device: dr.DeviceEntry, entry_id: str) -> set[str]:
    """The ids of the gates a device of the store stands for (none for the store's own)."""
    prefix = gate_device_id(entry_id, "")[1]
    return {i[1].removeprefix(prefix) for i in device.identifiers if i[1].startswith(prefix)}


def rename_gate_devices(
    registry: dr.DeviceRegistry, entry_id: str, known: dict[str, Gate], listed: dict[str, Gate]
) -> None:
    """Give the device of each known gate the bridge now names differently its new name."""
    for gate_id, gate in listed.items():
        before = known.get(gate_id)
        if before is not None and before.name != gate.name:
            device = registry.async_get_device_by_identifier(
                gate_device_id(entry_id, gate_id), entry_id
            )
            if device is not None:
                registry.async_update_device(device.id, name=gate.name)


def remove_stale_gate_devices(registry: dr.DeviceRegistry, entry_id: str, listed: set[str]) -> None:
    """Remove the devices (and so the entities) of gates the bridge no longer has."""
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        gates = gate_ids(device, entry_id)
        if gates and not gates & listed:
            registry.async_update_device(device.id, remove_config_entry_id=entry_id)
