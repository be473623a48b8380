"""The Zigbee rig: Home Assistant's real ZHA on a simulated zigpy radio with one lock.

``SimulatedController`` is a zigpy ``ControllerApplication`` with no hardware behind it:
``send_packet`` hands every unicast frame to the simulated device at that address, and
the device answers through ``app.packet_received(...)``, the call a radio library makes.
zigpy's request path, ZCL (de)serialisation and reply matching all stay real, and so does
everything above them (the ``zha`` library and Home Assistant's ``zha`` integration).

``SimulatedLock`` is a battery DoorLock (0x0101) end device, deliberately with a
manufacturer/model no zha-quirks quirk matches. It keeps its own PIN table (20 users,
``user_id`` 0..19) and answers ``set_pin_code``, ``get_pin_code``, ``clear_pin_code``,
``set_user_status``, ``lock_door`` and ``unlock_door`` with their responses. It can refuse
duplicate PINs (status 0x03, table unchanged), go silent (frames dropped, no answers),
send ``operation_event_notification``, ``programming_event_notification`` and
``lock_state`` reports (each injected frame with a fresh ZCL sequence number: zigpy drops
repeated frames), and counts the DoorLock commands it received (with the loop time of each).

Fault modes, per DoorLock command (``ZhaLock.fail`` / ``lose_answers`` / ``answer_late``):
``fail`` answers with a failure status and changes nothing; ``lose`` carries the command
out and never answers; ``late`` carries it out and answers after ``LATE_ANSWER_S`` (after
zigpy gave up). Each counts frames, not requests: zigpy makes 3 attempts per request when
no answer comes (``times=3`` loses one whole request). ``factory_reset`` wipes the table and
reports it (``PINCodeDeleted`` for user 0xFFFF: all users), ``keypad_program`` /
``keypad_delete`` change one slot at the lock's own menu and report it.

The ``zha_lock`` fixture sets ZHA up with the simulated radio, joins the lock through
zigpy's normal ``device_initialized`` path, waits for its ``lock.*`` entity and returns a
``ZhaLock`` control object. Slots are Home Assistant's ``code_slot`` (``user_id + 1``).

The patched names are private (``bellows``' controller ``new``, ZHA's connect delay,
zigpy's extended APS reply timeout, the zha gateway shut-down delay, ``zha.PLATFORMS``):
the HA, zha and zigpy versions are pinned together in ``requirements/test.in``.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import pytest
import zigpy.application
import zigpy.device
import zigpy.endpoint
import zigpy.exceptions
import zigpy.profiles.zha
import zigpy.state
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from bellows.zigbee.application import ControllerApplication as BellowsController
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from zigpy.zcl import foundation
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import Basic, PowerConfiguration

from tests.waiting import until

ZHA = "zha"
COORDINATOR_IEEE = t.EUI64.convert("00:12:4b:00:00:00:00:01")
LOCK_IEEE = t.EUI64.convert("00:0d:6f:00:0c:0c:1e:01")
LOCK_NWK = t.NWK(0x3A7C)
LOCK_MANUFACTURER = "Concierge Simulations"
LOCK_MODEL = "SimLock ZB-20"
PIN_USERS = 20
NO_USER = 0xFFFF
DUPLICATE_CODE = foundation.Status(0x03)  # DoorLock set_pin_code_response: duplicate
# Reply timeout for sleepy end devices (zigpy's default is 28 s); zigpy makes 3 attempts.
REPLY_TIMEOUT_S = 0.15
# A late answer comes after zigpy's 3 attempts (3 x 0.15 s plus retry delays) gave up.
LATE_ANSWER_S = 1.0
FAULT_KINDS = frozenset({"fail", "lose", "late"})
JOIN_TIMEOUT_S = 10.0

SERVER = foundation.Direction.Server_to_Client
ZDO_STATUS_SUCCESS = zdo_t.Status.SUCCESS
ZDO_STATUS_NOT_SUPPORTED = zdo_t.Status.NOT_SUPPORTED


@dataclass(slots=True)
class PinEntry:
    """One row of the lock's own PIN table."""

    status: DoorLock.UserStatus
    user_type: DoorLock.UserType
    pin: str


@dataclass(slots=True)
class Fault:
    """How the lock mishandles one DoorLock command (see the module docstring)."""

    kind: str
    remaining: int | None = None
    """Frames still to mishandle; None: until healed."""
    delay: float = LATE_ANSWER_S


@dataclass
class SimulatedLock:
    """A Zigbee DoorLock end device that lives inside the simulated radio."""

    ieee: t.EUI64 = LOCK_IEEE
    nwk: t.NWK = LOCK_NWK
    pins: dict[int, PinEntry] = field(default_factory=dict)
    reject_duplicates: bool = False
    online: bool = True
    received: list[str] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    """The loop time at which each of ``received`` arrived."""
    dropped: int = 0
    faults: dict[str, Fault] = field(default_factory=dict)
    withheld: int = 0
    """Answers not sent (``lose``) so far."""
    late: list[asyncio.TimerHandle] = field(default_factory=list)
    """Late answers still to come (cancelled when the fixture ends)."""
    app: SimulatedController | None = None
    _tsn: Callable[[], int] = field(default_factory=lambda: itertools.count(0x40).__next__)
    attributes: dict[int, dict[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Fill the attribute tables the lock answers reads from."""
        self.attributes = {
            Basic.cluster_id: {
                Basic.AttributeDefs.zcl_version.id: 8,
                Basic.AttributeDefs.app_version.id: 1,
                Basic.AttributeDefs.manufacturer.id: LOCK_MANUFACTURER,
                Basic.AttributeDefs.model.id: LOCK_MODEL,
                Basic.AttributeDefs.power_source.id: Basic.PowerSource.Battery,
            },
            PowerConfiguration.cluster_id: {
                PowerConfiguration.AttributeDefs.battery_voltage.id: 60,
                PowerConfiguration.AttributeDefs.battery_percentage_remaining.id: 180,
            },
            DoorLock.cluster_id: {
                DoorLock.AttributeDefs.lock_state.id: DoorLock.LockState.Locked,
                DoorLock.AttributeDefs.lock_type.id: DoorLock.LockType.Dead_bolt,
                DoorLock.AttributeDefs.actuator_enabled.id: t.Bool.true,
                DoorLock.AttributeDefs.num_of_pin_users_supported.id: PIN_USERS,
                DoorLock.AttributeDefs.max_pin_len.id: 8,
                DoorLock.AttributeDefs.min_pin_len.id: 4,
            },
        }

    # ---- the device's view: frames in, frames out ----------------------------------

    def next_tsn(self) -> int:
        """A fresh ZCL sequence number for a frame the lock sends on its own."""
        return self._tsn() & 0xFF

    def receive(self, packet: t.ZigbeePacket) -> None:
        """Handle one frame the coordinator sent to this device."""
        if not self.online:
            self.dropped += 1
            return
        data = packet.data.serialize()
        if packet.dst_ep == 0:
            self._receive_zdo(packet, data)
            return
        hdr, payload = foundation.ZCLHeader.deserialize(data)
        if hdr.frame_control.is_general:
            self._receive_general(packet, hdr, payload)
        elif packet.cluster_id == DoorLock.cluster_id:
            self._receive_door_lock(packet, hdr, payload)
        elif not hdr.frame_control.disable_default_response:
            self._default_response(packet, hdr, foundation.Status.UNSUP_CLUSTER_COMMAND)

    def _send(self, cluster_id: int, data: bytes, *, src_ep: int = 1, dst_ep: int = 1) -> None:
        app = self.app
        if app is None or not self.online:
            return
        app.packet_received(
            t.ZigbeePacket(
                src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=self.nwk),
                src_ep=src_ep,
                dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=app.state.node_info.nwk),
                dst_ep=dst_ep,
                tsn=data[0] if src_ep == 0 else 0,
                profile_id=0 if src_ep == 0 else zigpy.profiles.zha.PROFILE_ID,
                cluster_id=cluster_id,
                data=t.SerializableBytes(data),
                lqi=200,
                rssi=-50,
            )
        )

    def _reply(self, request: t.ZigbeePacket, data: bytes) -> None:
        """Answer a request on the next loop iteration, as a radio would."""
        asyncio.get_running_loop().call_soon(
            lambda: self._send(request.cluster_id, data, dst_ep=request.src_ep or 1)
        )

    def _receive_zdo(self, packet: t.ZigbeePacket, data: bytes) -> None:
        tsn = data[:1]
        if packet.cluster_id in {zdo_t.ZDOCmd.Bind_req, zdo_t.ZDOCmd.Unbind_req}:
            body = ZDO_STATUS_SUCCESS.serialize()
        else:
            body = ZDO_STATUS_NOT_SUPPORTED.serialize()
        rsp_cluster = packet.cluster_id | 0x8000
        asyncio.get_running_loop().call_soon(
            lambda: self._send(rsp_cluster, tsn + body, src_ep=0, dst_ep=0)
        )

    def _default_response(
        self, packet: t.ZigbeePacket, hdr: foundation.ZCLHeader, status: foundation.Status
    ) -> None:
        rsp_hdr = foundation.ZCLHeader.general(
            hdr.tsn, foundation.GeneralCommand.Default_Response, direction=SERVER
        )
        schema = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Default_Response].schema
        body = schema(command_id=hdr.command_id, status=status).serialize()
        self._reply(packet, rsp_hdr.serialize() + body)

    def _receive_general(
        self, packet: t.ZigbeePacket, hdr: foundation.ZCLHeader, payload: bytes
    ) -> None:
        command = foundation.GeneralCommand(hdr.command_id)
        table = self.attributes.get(packet.cluster_id, {})
        if command == foundation.GeneralCommand.Read_Attributes:
            request, _ = foundation.GENERAL_COMMANDS[command].schema.deserialize(payload)
            records = [
                self._read_record(packet.cluster_id, table, a) for a in request.attribute_ids
            ]
            rsp = foundation.GeneralCommand.Read_Attributes_rsp
            body = foundation.GENERAL_COMMANDS[rsp].schema(status_records=records).serialize()
        elif command == foundation.GeneralCommand.Configure_Reporting:
            rsp = foundation.GeneralCommand.Configure_Reporting_rsp
            ok = foundation.ConfigureReportingResponseRecord(status=foundation.Status.SUCCESS)
            body = ok.serialize()
        elif command == foundation.GeneralCommand.Write_Attributes:
            request, _ = foundation.GENERAL_COMMANDS[command].schema.deserialize(payload)
            for record in request.attributes:
                table[record.attrid] = record.value.value
            rsp = foundation.GeneralCommand.Write_Attributes_rsp
            body = foundation.Status.SUCCESS.serialize()
        else:
            if not hdr.frame_control.disable_default_response:
                self._default_response(packet, hdr, foundation.Status.UNSUP_GENERAL_COMMAND)
            return
        rsp_hdr = foundation.ZCLHeader.general(hdr.tsn, rsp, direction=SERVER)
        self._reply(packet, rsp_hdr.serialize() + body)

    @staticmethod
    def _read_record(
        cluster_id: int, table: dict[int, Any], attrid: int
    ) -> foundation.ReadAttributeRecord:
        if attrid not in table:
            return foundation.ReadAttributeRecord(
                attrid=attrid, status=foundation.Status.UNSUPPORTED_ATTRIBUTE
            )
        cluster = {
            Basic.cluster_id: Basic,
            PowerConfiguration.cluster_id: PowerConfiguration,
            DoorLock.cluster_id: DoorLock,
        }[cluster_id]
        attr_def = cluster.attributes[attrid]
        value = foundation.TypeValue(type=attr_def.zcl_type, value=attr_def.type(table[attrid]))
        return foundation.ReadAttributeRecord(
            attrid=attrid, status=foundation.Status.SUCCESS, value=value
        )

    def _receive_door_lock(
        self, packet: t.ZigbeePacket, hdr: foundation.ZCLHeader, payload: bytes
    ) -> None:
        command_def = DoorLock.server_commands.get(hdr.command_id)
        if command_def is None:
            self._default_response(packet, hdr, foundation.Status.UNSUP_CLUSTER_COMMAND)
            return
        self.received.append(command_def.name)
        self.received_at.append(asyncio.get_running_loop().time())
        args, _ = command_def.schema.deserialize(payload)
        fault = self._take_fault(command_def.name)
        if fault is not None and fault.kind == "fail":
            self._fail(packet, hdr)
            return
        response: dict[str, Any]
        match command_def.name:
            case "set_pin_code":
                response = {"status": self._set_pin(args.user_id, args.user_status, args)}
            case "get_pin_code":
                entry = self.pins.get(args.user_id)
                response = {
                    "user_id": args.user_id,
                    "user_status": entry.status if entry else DoorLock.UserStatus.Available,
                    "user_type": entry.user_type if entry else DoorLock.UserType.Not_Supported,
                    "code": entry.pin if entry else "",
                }
            case "clear_pin_code":
                ok = args.user_id < PIN_USERS
                self.pins.pop(args.user_id, None)
                response = {"status": _status(ok)}
            case "clear_all_pin_codes":
                self.pins.clear()
                response = {"status": foundation.Status.SUCCESS}
            case "set_user_status":
                entry = self.pins.get(args.user_id)
                if entry is not None:
                    entry.status = args.user_status
                response = {"status": _status(entry is not None)}
            case "lock_door" | "unlock_door":
                locked = command_def.name == "lock_door"
                response = {"status": foundation.Status.SUCCESS}
                asyncio.get_running_loop().call_soon(self._remote_operation, locked)
            case _:
                self._default_response(packet, hdr, foundation.Status.UNSUP_CLUSTER_COMMAND)
                return
        rsp_def = DoorLock.client_commands[hdr.command_id]
        rsp_hdr = foundation.ZCLHeader.cluster(hdr.tsn, rsp_def.id, direction=SERVER)
        data = rsp_hdr.serialize() + rsp_def.schema(**response).serialize()
        if fault is None:
            self._reply(packet, data)
        elif fault.kind == "lose":
            self.withheld += 1
        else:  # late
            self.late.append(
                asyncio.get_running_loop().call_later(
                    fault.delay,
                    lambda: self._send(packet.cluster_id, data, dst_ep=packet.src_ep or 1),
                )
            )

    def _take_fault(self, command: str) -> Fault | None:
        """The fault for this frame of ``command``, if any (and count it)."""
        fault = self.faults.get(command)
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self.faults[command]
        return fault

    def _fail(self, packet: t.ZigbeePacket, hdr: foundation.ZCLHeader) -> None:
        """Answer with a failure status (a Default Response if the answer has none)."""
        rsp_def = DoorLock.client_commands.get(hdr.command_id)
        if rsp_def is None or [f.name for f in rsp_def.schema.fields] != ["status"]:
            self._default_response(packet, hdr, foundation.Status.FAILURE)
            return
        rsp_hdr = foundation.ZCLHeader.cluster(hdr.tsn, rsp_def.id, direction=SERVER)
        body = rsp_def.schema(status=foundation.Status.FAILURE).serialize()
        self._reply(packet, rsp_hdr.serialize() + body)

    def _set_pin(self, user_id: int, status: DoorLock.UserStatus, args: Any) -> foundation.Status:
        if user_id >= PIN_USERS or not 4 <= len(args.pin_code) <= 8:
            return foundation.Status.FAILURE
        if self.reject_duplicates and any(
            other != user_id and entry.pin == args.pin_code for other, entry in self.pins.items()
        ):
            return DUPLICATE_CODE
        self.pins[user_id] = PinEntry(status, args.user_type, str(args.pin_code))
        return foundation.Status.SUCCESS

    def _remote_operation(self, locked: bool) -> None:
        self.operation_event(
            DoorLock.OperationEventSource.RF,
            DoorLock.OperationEvent.Lock if locked else DoorLock.OperationEvent.Unlock,
            NO_USER,
        )
        self.report_lock_state(DoorLock.LockState.Locked if locked else DoorLock.LockState.Unlocked)

    # ---- things the lock does on its own -------------------------------------------

    def operation_event(
        self,
        source: DoorLock.OperationEventSource,
        operation: DoorLock.OperationEvent,
        user_id: int,
        pin: str = "",
    ) -> None:
        """Send an ``operation_event_notification`` (0x20)."""
        cmd = DoorLock.ClientCommandDefs.operation_event_notification
        body = cmd.schema(
            operation_event_source=source,
            operation_event_code=operation,
            user_id=user_id,
            pin=pin,
            local_time=0,
            data="",
        ).serialize()
        hdr = foundation.ZCLHeader.cluster(self.next_tsn(), cmd.id, direction=SERVER)
        self._send(DoorLock.cluster_id, hdr.serialize() + body)

    def programming_event(
        self,
        source: DoorLock.OperationEventSource,
        event: DoorLock.ProgrammingEvent,
        user_id: int,
        pin: str = "",
    ) -> None:
        """Send a ``programming_event_notification`` (0x21)."""
        entry = self.pins.get(user_id)
        cmd = DoorLock.ClientCommandDefs.programming_event_notification
        body = cmd.schema(
            program_event_source=source,
            program_event_code=event,
            user_id=user_id,
            pin=pin,
            user_type=entry.user_type if entry else DoorLock.UserType.Not_Supported,
            user_status=entry.status if entry else DoorLock.UserStatus.Available,
            local_time=0,
            data="",
        ).serialize()
        hdr = foundation.ZCLHeader.cluster(self.next_tsn(), cmd.id, direction=SERVER)
        self._send(DoorLock.cluster_id, hdr.serialize() + body)

    def report_lock_state(self, state: DoorLock.LockState) -> None:
        """Report the ``lock_state`` attribute (Report_Attributes)."""
        attr = DoorLock.AttributeDefs.lock_state
        self.attributes[DoorLock.cluster_id][attr.id] = state
        cmd = foundation.GeneralCommand.Report_Attributes
        record = foundation.Attribute(
            attr.id, foundation.TypeValue(type=attr.zcl_type, value=attr.type(state))
        )
        body = foundation.GENERAL_COMMANDS[cmd].schema(attribute_reports=[record]).serialize()
        hdr = foundation.ZCLHeader.general(self.next_tsn(), cmd, direction=SERVER)
        self._send(DoorLock.cluster_id, hdr.serialize() + body)


def _status(ok: bool) -> foundation.Status:
    return foundation.Status.SUCCESS if ok else foundation.Status.FAILURE


class SimulatedController(zigpy.application.ControllerApplication):
    """A zigpy radio with no hardware: frames go to simulated devices and back."""

    lock: SimulatedLock

    async def _load_db(self) -> None:
        """No zigbee.db: every test starts from an empty network."""

    async def connect(self) -> None:
        """Nothing to connect to."""

    async def disconnect(self) -> None:
        """Nothing to disconnect from."""

    async def load_network_info(self, *, load_devices: bool = False) -> None:  # noqa: ARG002
        """Report a formed network with this radio as its coordinator."""
        self.state.node_info = zigpy.state.NodeInfo(
            nwk=t.NWK(0x0000),
            ieee=COORDINATOR_IEEE,
            logical_type=zdo_t.LogicalType.Coordinator,
            model="Simulated radio",
            manufacturer="Concierge",
            version="1.0",
        )
        self.state.network_info = zigpy.state.NetworkInfo(
            extended_pan_id=t.ExtendedPanId.convert("c0:c1:e2:9e:00:00:00:01"),
            pan_id=t.PanId(0x1A62),
            channel=15,
            channel_mask=t.Channels.from_channel_list([15]),
            security_level=5,
            network_key=zigpy.state.Key(key=t.KeyData(range(16))),
            source="concierge-zigbee-rig",
        )

    async def start_network(self) -> None:
        """Create the coordinator device (endpoint 1), as radio libraries do."""
        coordinator = zigpy.device.Device(self, COORDINATOR_IEEE, t.NWK(0x0000))
        coordinator.node_desc = zdo_t.NodeDescriptor(
            logical_type=zdo_t.LogicalType.Coordinator,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=zdo_t.NodeDescriptor.MACCapabilityFlags(0x8E),
            manufacturer_code=0x1234,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            server_mask=0x2C00,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=0,
        )
        endpoint = coordinator.add_endpoint(1)
        endpoint.profile_id = zigpy.profiles.zha.PROFILE_ID
        endpoint.device_type = zigpy.profiles.zha.DeviceType.CONFIGURATION_TOOL
        endpoint.status = zigpy.endpoint.Status.ZDO_INIT
        coordinator.manufacturer = "Concierge"
        coordinator.model = "Simulated radio"
        self.devices[COORDINATOR_IEEE] = coordinator

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        """Hand a unicast frame to the simulated device at its destination."""
        dst = packet.dst
        if dst is None or dst.addr_mode not in {t.AddrMode.NWK, t.AddrMode.IEEE}:
            return  # broadcasts and multicasts reach nobody who answers
        if dst.address in {self.lock.nwk, self.lock.ieee}:
            self.lock.receive(packet)
            return
        msg = f"No simulated device at {dst.address}"
        raise zigpy.exceptions.DeliveryError(msg)

    async def force_remove(self, dev: zigpy.device.Device) -> None:
        """Nothing to remove from a radio that does not exist."""

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        """Endpoints are not registered anywhere."""

    async def permit_ncp(self, time_s: int = 60) -> None:
        """Joins are simulated directly."""

    async def permit_with_link_key(
        self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60
    ) -> None:
        """Joins are simulated directly."""

    async def write_network_info(
        self, *, network_info: zigpy.state.NetworkInfo, node_info: zigpy.state.NodeInfo
    ) -> None:
        """The simulated network cannot be changed."""
        raise NotImplementedError

    async def reset_network_info(self) -> None:
        """The simulated network cannot be changed."""
        raise NotImplementedError

    async def _network_scan(self, channels: t.Channels, duration_exp: int) -> Any:
        raise NotImplementedError

    async def _packet_capture(self, channel: int) -> Any:
        raise NotImplementedError

    async def _packet_capture_change_channel(self, channel: int) -> None:
        raise NotImplementedError

    async def _subscribe_to_multicast_group(self, group_id: t.Group) -> None:
        """Groups are not simulated."""

    async def _unsubscribe_from_multicast_group(self, group_id: t.Group) -> None:
        """Groups are not simulated."""


@dataclass
class ZhaLock:
    """Test-side control of the simulated lock, and where HA shows it."""

    hass: HomeAssistant
    sim: SimulatedLock
    entity_id: str
    device_id: str
    ieee: str
    config_entry: MockConfigEntry

    def codes(self) -> dict[int, dict[str, str]]:
        """The lock's own PIN table, keyed by HA code slot (``user_id + 1``)."""
        return {
            user_id + 1: {"status": entry.status.name, "pin": entry.pin}
            for user_id, entry in sorted(self.sim.pins.items())
        }

    def set_code(self, slot: int, pin: str, *, enabled: bool = True) -> None:
        """Put a code straight into the lock's memory (no frame, no event)."""
        status = DoorLock.UserStatus.Enabled if enabled else DoorLock.UserStatus.Disabled
        self.sim.pins[slot - 1] = PinEntry(status, DoorLock.UserType.Unrestricted, pin)

    def enter_pin(self, pin: str) -> bool:
        """Someone types ``pin`` on the keypad; the lock unlocks if it is enabled."""
        user_id = next(
            (
                uid
                for uid, entry in self.sim.pins.items()
                if entry.pin == pin and entry.status == DoorLock.UserStatus.Enabled
            ),
            None,
        )
        if user_id is None:
            self.wrong_code()
            return False
        self.sim.operation_event(
            DoorLock.OperationEventSource.Keypad, DoorLock.OperationEvent.Unlock, user_id, pin
        )
        self.sim.report_lock_state(DoorLock.LockState.Unlocked)
        return True

    def keypad_unlock(self, slot: int) -> None:
        """The code in ``slot`` is typed on the keypad (it must be stored and enabled)."""
        entry = self.sim.pins.get(slot - 1)
        if entry is None or entry.status != DoorLock.UserStatus.Enabled:
            msg = f"slot {slot} holds no enabled code"
            raise ValueError(msg)
        self.enter_pin(entry.pin)

    def wrong_code(self) -> None:
        """An unknown code is typed: UnlockFailureInvalidPINorID, no user (0xFFFF)."""
        self.sim.operation_event(
            DoorLock.OperationEventSource.Keypad,
            DoorLock.OperationEvent.UnlockFailureInvalidPINorID,
            NO_USER,
        )

    def manual_lock(self) -> None:
        """The thumb turn is used: Manual / Manual_Lock, then ``lock_state`` Locked."""
        self.sim.operation_event(
            DoorLock.OperationEventSource.Manual, DoorLock.OperationEvent.Manual_Lock, NO_USER
        )
        self.sim.report_lock_state(DoorLock.LockState.Locked)

    def manual_unlock(self) -> None:
        """The thumb turn is used: Manual / Manual_Unlock, then ``lock_state`` Unlocked."""
        self.sim.operation_event(
            DoorLock.OperationEventSource.Manual, DoorLock.OperationEvent.Manual_Unlock, NO_USER
        )
        self.sim.report_lock_state(DoorLock.LockState.Unlocked)

    def keypad_program(self, slot: int, pin: str) -> None:
        """A code is programmed at the lock itself: table updated, then PINCodeAdded."""
        self.set_code(slot, pin)
        self.sim.programming_event(
            DoorLock.OperationEventSource.Keypad, DoorLock.ProgrammingEvent.PINCodeAdded, slot - 1
        )

    def keypad_delete(self, slot: int) -> None:
        """A code is deleted at the lock itself: slot freed, then PINCodeDeleted."""
        self.sim.pins.pop(slot - 1, None)
        self.sim.programming_event(
            DoorLock.OperationEventSource.Keypad, DoorLock.ProgrammingEvent.PINCodeDeleted, slot - 1
        )

    def factory_reset(self, source: str = "Manual") -> list[int]:
        """Wipe every code; report it as ZCL says for all users: PINCodeDeleted, 0xFFFF.

        Returns the slots that held a code.
        """
        wiped = [user_id + 1 for user_id in sorted(self.sim.pins)]
        self.sim.pins.clear()
        self.sim.programming_event(
            DoorLock.OperationEventSource[source], DoorLock.ProgrammingEvent.PINCodeDeleted, NO_USER
        )
        return wiped

    def fail(self, command: str, times: int | None = None) -> None:
        """Answer ``command`` (e.g. ``"clear_pin_code"``) with a failure status, change nothing.

        ``times``: for that many frames only (None: until ``heal``).
        """
        self._fault(command, Fault("fail", times))

    def lose_answers(self, command: str, times: int | None = None) -> None:
        """Carry ``command`` out but never answer (zigpy times out and tries again).

        ``times`` counts frames: zigpy makes 3 attempts, so ``times=3`` loses one request.
        """
        self._fault(command, Fault("lose", times))

    def answer_late(
        self, command: str, delay: float = LATE_ANSWER_S, times: int | None = None
    ) -> None:
        """Carry ``command`` out and answer after ``delay`` s (after zigpy gave up)."""
        self._fault(command, Fault("late", times, delay))

    def heal(self, command: str | None = None) -> None:
        """Stop mishandling ``command`` (or every command)."""
        if command is None:
            self.sim.faults.clear()
        else:
            self.sim.faults.pop(command, None)

    def _fault(self, command: str, fault: Fault) -> None:
        if command not in {c.name for c in DoorLock.server_commands.values()}:
            msg = f"{command} is not a DoorLock command"
            raise ValueError(msg)
        if fault.kind not in FAULT_KINDS or (fault.remaining is not None and fault.remaining < 1):
            msg = f"bad fault {fault}"
            raise ValueError(msg)
        self.sim.faults[command] = fault

    def frame_times(self, command: str) -> list[float]:
        """Loop times at which the lock received ``command`` (since the last reset)."""
        return [at for name, at in zip(self.sim.received, self.sim.received_at, strict=True)
                if name == command]  # fmt: skip

    def programming_event(
        self, event: DoorLock.ProgrammingEvent, slot: int, source: str = "Keypad"
    ) -> None:
        """Send a ``programming_event_notification`` for ``slot``."""
        self.sim.programming_event(DoorLock.OperationEventSource[source], event, slot - 1)

    def report_lock_state(self, state: DoorLock.LockState) -> None:
        """Send a ``lock_state`` attribute report."""
        self.sim.report_lock_state(state)

    def reject_duplicates(self, on: bool = True) -> None:  # noqa: FBT002
        """Refuse a PIN another user already has (status 0x03, table unchanged)."""
        self.sim.reject_duplicates = on

    def offline(self, on: bool = True) -> None:  # noqa: FBT002
        """Go silent (drop every frame, answer nothing) or come back."""
        self.sim.online = not on

    def frames(self) -> list[str]:
        """DoorLock commands the lock received (names, oldest first) since the last reset."""
        return list(self.sim.received)

    def reset_frames(self) -> None:
        """Forget the DoorLock commands received so far."""
        self.sim.received.clear()
        self.sim.received_at.clear()
        self.sim.dropped = 0
        self.sim.withheld = 0

    @property
    def zigpy_device(self) -> zigpy.device.Device:
        """The zigpy device ZHA drives (through ZHA's device proxy)."""
        from homeassistant.components.zha.helpers import (  # noqa: PLC0415
            async_get_zha_device_proxy,
        )

        return async_get_zha_device_proxy(self.hass, self.device_id).device.device

    @property
    def door_lock_cluster(self) -> DoorLock:
        """The zigpy DoorLock cluster on the lock's endpoint 1."""
        return self.zigpy_device.endpoints[1].in_clusters[DoorLock.cluster_id]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations):
    """Let Home Assistant load Concierge from custom_components."""


@pytest.fixture
def zha_config_entry() -> MockConfigEntry:
    """A ZHA config entry for an EZSP radio (the radio itself is simulated)."""
    return MockConfigEntry(
        domain=ZHA,
        version=5,
        minor_version=2,
        title="Simulated radio",
        data={
            "radio_type": "ezsp",
            "device": {
                "path": "socket://zigbee-sim.invalid:6638",
                "baudrate": 115200,
                "flow_control": None,
            },
        },
    )


@pytest.fixture
def simulated_lock() -> SimulatedLock:
    """The lock, before it joins."""
    return SimulatedLock()


@pytest.fixture
async def zha_lock(
    hass: HomeAssistant,
    tmp_path,
    zha_config_entry: MockConfigEntry,
    simulated_lock: SimulatedLock,
) -> AsyncIterator[ZhaLock]:
    """Real ZHA on the simulated radio, with the lock joined and its entity added."""
    import homeassistant.components.zha as zha_integration  # noqa: PLC0415

    hass.config.config_dir = str(tmp_path)
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    apps: list[SimulatedController] = []

    async def new(
        config: dict[str, Any],
        auto_form: bool = False,  # noqa: FBT002
        start_radio: bool = True,  # noqa: FBT002
        device_resolver: Any = None,
        uninitialized_packet_handler: Any = None,
    ) -> SimulatedController:
        app = SimulatedController(config)
        app.lock = simulated_lock
        if device_resolver is not None:
            app.register_device_resolver(device_resolver)
        if uninitialized_packet_handler is not None:
            app.register_uninitialized_packet_handler(uninitialized_packet_handler)
        if start_radio:
            await app.startup(auto_form=auto_form)
        apps.append(app)
        simulated_lock.app = app
        return app

    with (
        patch.object(BellowsController, "new", new),
        patch("homeassistant.components.zha.radio_manager.CONNECT_DELAY_S", 0),
        patch("zigpy.device.APS_REPLY_TIMEOUT_EXTENDED", REPLY_TIMEOUT_S),
        patch("zigpy.device.DEFAULT_REQUEST_RETRY_DELAY", 0.01),
        patch("zha.application.gateway.SHUT_DOWN_DELAY_S", 0),
        patch.object(
            zha_integration, "PLATFORMS", (Platform.EVENT, Platform.LOCK, Platform.SENSOR)
        ),
    ):
        zha_config_entry.add_to_hass(hass)
        assert await async_setup_component(hass, ZHA, {ZHA: {"enable_quirks": False}})
        await hass.async_block_till_done()
        app = apps[-1]

        device = _join(app, simulated_lock)
        app.device_initialized(device)
        ieee = str(simulated_lock.ieee)
        entity_id = await _wait_for_lock_entity(hass, ieee, zha_config_entry.entry_id)
        device_entry = dr.async_get(hass).async_get_device_by_identifier(
            (ZHA, ieee), zha_config_entry.entry_id
        )
        assert device_entry is not None
        simulated_lock.received.clear()
        simulated_lock.received_at.clear()

        yield ZhaLock(
            hass=hass,
            sim=simulated_lock,
            entity_id=entity_id,
            device_id=device_entry.id,
            ieee=ieee,
            config_entry=zha_config_entry,
        )

        simulated_lock.online = True
        simulated_lock.faults.clear()
        for handle in simulated_lock.late:
            handle.cancel()
        assert await hass.config_entries.async_unload(zha_config_entry.entry_id)
        await hass.async_block_till_done()


def _join(app: SimulatedController, lock: SimulatedLock) -> zigpy.device.Device:
    """Build the zigpy device the way an interview leaves it (node and simple descriptors)."""
    device = app.add_device(lock.ieee, lock.nwk)
    device.node_desc = zdo_t.NodeDescriptor(
        logical_type=zdo_t.LogicalType.EndDevice,
        complex_descriptor_available=0,
        user_descriptor_available=0,
        reserved=0,
        aps_flags=0,
        frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
        mac_capability_flags=zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress,
        manufacturer_code=0x4321,
        maximum_buffer_size=82,
        maximum_incoming_transfer_size=82,
        server_mask=0,
        maximum_outgoing_transfer_size=82,
        descriptor_capability_field=0,
    )
    endpoint = device.add_endpoint(1)
    endpoint.profile_id = zigpy.profiles.zha.PROFILE_ID
    endpoint.device_type = zigpy.profiles.zha.DeviceType.DOOR_LOCK
    for cluster_id in (Basic.cluster_id, PowerConfiguration.cluster_id, DoorLock.cluster_id):
        endpoint.add_input_cluster(cluster_id)
    endpoint.status = zigpy.endpoint.Status.ZDO_INIT
    device.manufacturer = LOCK_MANUFACTURER
    device.model = LOCK_MODEL
    basic = endpoint.in_clusters[Basic.cluster_id]
    basic.update_attribute(Basic.AttributeDefs.manufacturer.id, LOCK_MANUFACTURER)
    basic.update_attribute(Basic.AttributeDefs.model.id, LOCK_MODEL)
    return device


async def _wait_for_lock_entity(hass: HomeAssistant, ieee: str, entry_id: str) -> str:
    registry = er.async_get(hass)

    async def lock_entity() -> str | None:
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device_by_identifier((ZHA, ieee), entry_id)
        if device is not None:
            for entry in er.async_entries_for_device(registry, device.id):
                if entry.domain == "lock" and hass.states.get(entry.entity_id):
                    return entry.entity_id
        return None

    entity_id: str = await until(
        "the lock joins and Home Assistant shows its lock entity",
        lock_entity,
        seconds=JOIN_TIMEOUT_S,
    )
    return entity_id
