// Z-Wave test rig: the real Z-Wave JS driver and the real Z-Wave JS Server, running on the
// driver's own mock controller with one simulated keypad door lock, all in this one process.
//
//   node rig.mjs [--ws-port N] [--control-port N] [--cache-dir DIR] [--verbose]
//
// Ports default to 0, which means "pick a free one" (the READY line says which).
//
// Options can also come from the environment: ZWAVE_RIG_WS_PORT, ZWAVE_RIG_CONTROL_PORT,
// ZWAVE_RIG_CACHE_DIR, ZWAVE_RIG_VERBOSE=1, ZWAVE_RIG_SEND_ATTEMPTS (driver attempts per
// command, 1-5, default 1 so that an unreachable lock fails fast).
//
// Home Assistant's zwave_js integration (or any zwave-js-server client) connects to
// ws://127.0.0.1:<ws-port>. When the lock's interview is complete this prints exactly one
//   READY ws=<port> control=<port> node=<node id> home=<home id>
// line on stdout. SIGTERM/SIGINT stop it cleanly; it also stops when its parent goes away.
//
// The control channel (HTTP + JSON on 127.0.0.1:<control-port>) makes the lock do what a
// real one does on its own and reads the lock's own memory (the mock node's state, never
// the driver's value DB):
//   GET  /status                 online, duplicate rejection, clear refusal, bolt, battery,
//                                frames sent to the lock while offline ("unheard"), the
//                                driver's view
//   GET  /codes                  {"1": {"status": "enabled", "code": "13579"}, ...} all slots
//   POST /keypad-unlock          {"slot": n} or {"code": "..."}: Access Control 0x06 with a
//                                User Code Report of that slot, then Door Lock report unsecured
//   POST /keypad-lock            {"slot": n} optional: Access Control 0x05, then secured
//   POST /manual-lock            Access Control 0x01, then Door Lock report secured
//   POST /manual-unlock          Access Control 0x02, then Door Lock report unsecured
//   POST /wrong-code             Access Control 0x13 (user code entry limit exceeded)
//   POST /battery                {"level": 0-100}: Battery report
//   POST /reject-duplicates      {"on": bool}: refuse a code another slot already holds
//                                (slot unchanged, Access Control 0x0F, Supervision Fail)
//   POST /offline                {"on": bool}: stop/resume answering (no ACK) the
//                                controller; coming back waits for the driver's queue
//                                to drain, then sends a Door Lock report (node alive)
//   POST /keypad-program         {"slot": n, "code": "..."}: a code typed in at the lock's
//                                own menu: the slot is written, then a User Code Report of
//                                it and Access Control 0x0E (new user code added)
//   POST /keypad-delete          {"slot": n}: a code deleted at the lock's own menu: the
//                                slot is freed, then a User Code Report of it and Access
//                                Control 0x0D (single user code deleted)
//   POST /wipe                   {"slot_reports": bool, default true}: a factory reset: every
//                                slot freed, then Access Control 0x0C (all user codes
//                                deleted) and, unless slot_reports is false, a User Code
//                                Report of each slot that held a code
//   POST /refuse-clears          {"on": bool}: answer a clear (a User Code Set to
//                                "available") with Supervision Fail, slot unchanged
//   POST /reset                  only seed slot 1, duplicates allowed, clears accepted,
//                                online, locked, battery 100, frame counters zeroed
//   GET  /frames                 commands the lock received, e.g. {"UserCode.Get": 3}
//   POST /frames/reset

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import {
	BatteryCCGet,
	BatteryCCReport,
	DoorLockCCOperationReport,
	DoorLockMode,
	KeypadMode,
	NotificationCCGet,
	NotificationCCReport,
	UserCodeCCExtendedUserCodeSet,
	UserCodeCCReport,
	UserCodeCCSet,
	UserIDStatus,
} from "@zwave-js/cc";
import { CommandClasses, Duration } from "@zwave-js/core";
import { ZwavejsServer } from "@zwave-js/server";
import {
	MockController,
	MockNode,
	ccCaps,
	createMockZWaveRequestFrame,
} from "@zwave-js/testing";
import {
	createAndStartDriverWithMockPort,
	createDefaultMockControllerBehaviors,
	createDefaultMockNodeBehaviors,
} from "zwave-js/Testing";

const NODE_ID = 2;
const HOME_ID = 0x7e57c0de;
const NUM_USERS = 20;
const SEED_SLOT = 1;
const SEED_CODE = "13579";
const ACCESS_CONTROL = 0x06;
const EVENT = {
	manualLock: 0x01,
	manualUnlock: 0x02,
	keypadLock: 0x05,
	keypadUnlock: 0x06,
	allCodesDeleted: 0x0c,
	codeDeleted: 0x0d,
	codeAdded: 0x0e,
	duplicateCode: 0x0f,
	codeLimitExceeded: 0x13,
};
const SUPPORTED_ACCESS_CONTROL_EVENTS = [
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x13,
];
// Keys the driver's User Code and Door Lock mock behaviours keep in MockNode.state.
const userCodeKey = (slot) => `UserCode_userCode_${slot}`;
const userIdStatusKey = (slot) => `UserCode_userIdStatus_${slot}`;
const DOOR_LOCK_MODE_KEY = "DoorLock_currentMode";
const BATTERY_KEY = "Rig_batteryLevel";
const STATUS_NAMES = {
	[UserIDStatus.Available]: "available",
	[UserIDStatus.Enabled]: "enabled",
	[UserIDStatus.Disabled]: "disabled",
	[UserIDStatus.Messaging]: "messaging",
	[UserIDStatus.PassageMode]: "passage_mode",
	[UserIDStatus.StatusNotAvailable]: "status_not_available",
};

// --- options ---------------------------------------------------------------------------

const { values: args } = parseArgs({
	options: {
		"ws-port": { type: "string" },
		"control-port": { type: "string" },
		"cache-dir": { type: "string" },
		verbose: { type: "boolean" },
	},
});
const env = process.env;
let wsPort = Number(args["ws-port"] ?? env.ZWAVE_RIG_WS_PORT ?? 0);
const controlPort = Number(args["control-port"] ?? env.ZWAVE_RIG_CONTROL_PORT ?? 0);
const verbose = Boolean(args.verbose) || env.ZWAVE_RIG_VERBOSE === "1";
const sendAttempts = Number(env.ZWAVE_RIG_SEND_ATTEMPTS ?? 1);
const ownCacheDir = !(args["cache-dir"] ?? env.ZWAVE_RIG_CACHE_DIR);
const cacheDir =
	args["cache-dir"] ??
	env.ZWAVE_RIG_CACHE_DIR ??
	mkdtempSync(path.join(tmpdir(), "zwave-rig-"));

const log = (...parts) => {
	if (verbose) console.error("[rig]", ...parts);
};

// --- the lock's own memory -------------------------------------------------------------

/** @type {MockNode} */
let node;
/** @type {MockController} */
let controller;
let online = true;
let rejectDuplicates = false;
let refuseClears = false;
/** Frames the controller sent while the lock was offline (never acknowledged). */
let unheard = 0;
/** @type {Map<string, number>} */
const received = new Map();

const codeToString = (code) =>
	code == undefined
		? null
		: typeof code === "string"
			? code
			: Buffer.from(code).toString("latin1");

function slotStatus(slot) {
	return node.state.get(userIdStatusKey(slot)) ?? UserIDStatus.Available;
}

function slotCode(slot) {
	return codeToString(node.state.get(userCodeKey(slot)));
}

function isOccupied(status) {
	return status !== UserIDStatus.Available && status !== UserIDStatus.StatusNotAvailable;
}

function readCodes() {
	const codes = {};
	for (let slot = 1; slot <= NUM_USERS; slot++) {
		const status = slotStatus(slot);
		codes[slot] = {
			status: STATUS_NAMES[status] ?? String(status),
			code: isOccupied(status) ? slotCode(slot) : null,
		};
	}
	return codes;
}

function writeSlot(slot, status, code) {
	node.state.set(userIdStatusKey(slot), status);
	node.state.set(userCodeKey(slot), isOccupied(status) ? code : undefined);
}

/** "UserCodeCCExtendedUserCodeSet" -> "UserCode.ExtendedUserCodeSet" */
function commandName(cc) {
	const name = cc.constructor.name;
	const at = name.indexOf("CC");
	if (at <= 0) return name;
	const command = name.slice(at + 2);
	return command ? `${name.slice(0, at)}.${command}` : name.slice(0, at);
}

// --- what the lock sends by itself -----------------------------------------------------

async function send(cc) {
	await node.sendToController(createMockZWaveRequestFrame(cc, { ackRequested: true }));
}

async function sendAccessControl(event, eventParameters) {
	await send(
		new NotificationCCReport({
			nodeId: controller.ownNodeId,
			notificationType: ACCESS_CONTROL,
			notificationEvent: event,
			notificationStatus: 0xff,
			...(eventParameters ? { eventParameters } : {}),
		}),
	);
}

async function userCodeReportBytes(slot) {
	const report = new UserCodeCCReport({
		nodeId: controller.ownNodeId,
		userId: slot,
		userIdStatus: slotStatus(slot),
		userCode: isOccupied(slotStatus(slot)) ? (slotCode(slot) ?? "") : "",
	});
	return report.serialize(node.encodingContext);
}

async function sendSlotReport(slot) {
	await send(
		new UserCodeCCReport({
			nodeId: controller.ownNodeId,
			userId: slot,
			userIdStatus: slotStatus(slot),
			userCode: isOccupied(slotStatus(slot)) ? (slotCode(slot) ?? "") : "",
		}),
	);
}

async function sendBoltReport(mode) {
	node.state.set(DOOR_LOCK_MODE_KEY, mode);
	await send(
		new DoorLockCCOperationReport({
			nodeId: controller.ownNodeId,
			currentMode: mode,
			targetMode: mode,
			duration: new Duration(0, "seconds"),
			outsideHandlesCanOpenDoor: [true, true, true, true],
			insideHandlesCanOpenDoor: [true, true, true, true],
		}),
	);
}

async function sendBatteryReport(level) {
	node.state.set(BATTERY_KEY, level);
	await send(new BatteryCCReport({ nodeId: controller.ownNodeId, level }));
}

// --- behaviours the driver's mocks lack ------------------------------------------------

/** First in line: an offline lock hears nothing; an online one counts what it hears. */
const gate = {
	handleCC(_controller, _self, receivedCC) {
		if (!online) {
			unheard++;
			return { action: "stop" };
		}
		const name = commandName(receivedCC);
		received.set(name, (received.get(name) ?? 0) + 1);
		return undefined;
	},
};

/** A real lock refuses a code that another slot already holds. */
const refuseDuplicates = {
	handleCC(_controller, _self, receivedCC) {
		if (!rejectDuplicates) return undefined;
		let entries;
		if (receivedCC instanceof UserCodeCCSet) {
			entries = [receivedCC];
		} else if (receivedCC instanceof UserCodeCCExtendedUserCodeSet) {
			entries = receivedCC.userCodes;
		} else {
			return undefined;
		}
		const duplicate = entries.find(({ userId, userIdStatus, userCode }) => {
			if (!isOccupied(userIdStatus)) return false;
			const wanted = codeToString(userCode);
			for (let slot = 1; slot <= NUM_USERS; slot++) {
				if (slot !== userId && isOccupied(slotStatus(slot)) && slotCode(slot) === wanted) {
					return true;
				}
			}
			return false;
		});
		if (!duplicate) return undefined;
		log(`refusing duplicate code for slot ${duplicate.userId}`);
		// After the (Supervision) answer, tell the controller why, as real locks do.
		setTimeout(async () => {
			try {
				const parameters = await new UserCodeCCReport({
					nodeId: controller.ownNodeId,
					userId: duplicate.userId,
					userIdStatus: slotStatus(duplicate.userId),
					userCode: isOccupied(slotStatus(duplicate.userId))
						? (slotCode(duplicate.userId) ?? "")
						: "",
				}).serialize(node.encodingContext);
				await sendAccessControl(EVENT.duplicateCode, parameters);
			} catch (error) {
				console.error("[rig] duplicate notification failed:", error);
			}
		}, 20);
		return { action: "fail" };
	},
};

/** A lock that will not clear a code (jammed memory, a firmware fault): Supervision Fail. */
const refuseClearing = {
	handleCC(_controller, _self, receivedCC) {
		if (!refuseClears) return undefined;
		let entries;
		if (receivedCC instanceof UserCodeCCSet) {
			entries = [receivedCC];
		} else if (receivedCC instanceof UserCodeCCExtendedUserCodeSet) {
			entries = receivedCC.userCodes;
		} else {
			return undefined;
		}
		if (!entries.some(({ userIdStatus }) => !isOccupied(userIdStatus))) return undefined;
		log("refusing to clear a code");
		return { action: "fail" };
	},
};

const answerBatteryGet = {
	handleCC(ctrl, self, receivedCC) {
		if (!(receivedCC instanceof BatteryCCGet)) return undefined;
		const cc = new BatteryCCReport({
			nodeId: ctrl.ownNodeId,
			level: self.state.get(BATTERY_KEY) ?? 100,
		});
		return { action: "sendCC", cc };
	},
};

const answerNotificationGet = {
	handleCC(ctrl, _self, receivedCC) {
		if (!(receivedCC instanceof NotificationCCGet)) return undefined;
		const cc = new NotificationCCReport({
			nodeId: ctrl.ownNodeId,
			notificationType: receivedCC.notificationType ?? ACCESS_CONTROL,
			notificationEvent: 0x00,
			notificationStatus: 0xff,
		});
		return { action: "sendCC", cc };
	},
};

// --- start-up --------------------------------------------------------------------------

function throwawayKeys() {
	return {
		S0_Legacy: randomBytes(16),
		S2_Unauthenticated: randomBytes(16),
		S2_Authenticated: randomBytes(16),
		S2_AccessControl: randomBytes(16),
	};
}

function seedLock() {
	for (let slot = 1; slot <= NUM_USERS; slot++) {
		writeSlot(slot, UserIDStatus.Available, undefined);
	}
	writeSlot(SEED_SLOT, UserIDStatus.Enabled, SEED_CODE);
	node.state.set(DOOR_LOCK_MODE_KEY, DoorLockMode.Secured);
	node.state.set(BATTERY_KEY, 100);
}

const securityKeys = throwawayKeys();
const { driver, continueStartup, mockPort, serial } = await createAndStartDriverWithMockPort({
	securityKeys,
	storage: { cacheDir, throttle: "fast" },
	logConfig: verbose
		? { enabled: true, level: "debug", forceConsole: true }
		: { enabled: false },
	interview: {
		// Without this the driver's first interview CLEARS every code on the lock.
		queryAllUserCodes: true,
	},
	attempts: { sendData: sendAttempts },
	timeouts: { refreshValueAfterTransition: 100 },
	features: { softReset: false },
});
driver.on("error", (error) => console.error("[rig] driver error:", error));

controller = await MockController.create({
	mockPort,
	serial,
	ownNodeId: 1,
	homeId: HOME_ID,
	securityKeys,
});
controller.defineBehavior(...createDefaultMockControllerBehaviors());

node = await MockNode.create({
	id: NODE_ID,
	controller,
	capabilities: {
		isListening: true,
		isFrequentListening: false,
		genericDeviceClass: 0x40, // Entry Control
		specificDeviceClass: 0x03, // Secure Keypad Door Lock
		commandClasses: [
			ccCaps({ ccId: CommandClasses.Version, version: 3 }),
			CommandClasses["Manufacturer Specific"],
			ccCaps({ ccId: CommandClasses["Z-Wave Plus Info"], version: 2 }),
			CommandClasses.Supervision,
			CommandClasses.Battery,
			ccCaps({
				ccId: CommandClasses["Door Lock"],
				version: 4,
				supportedDoorLockModes: [DoorLockMode.Unsecured, DoorLockMode.Secured],
				doorSupported: false,
				boltSupported: true,
				latchSupported: false,
			}),
			ccCaps({
				ccId: CommandClasses["User Code"],
				version: 2,
				numUsers: NUM_USERS,
				supportsAdminCode: false,
				supportsAdminCodeDeactivation: false,
				supportsUserCodeChecksum: true,
				supportedASCIIChars: "0123456789",
				supportedKeypadModes: [KeypadMode.Normal],
				supportedUserIDStatuses: [
					UserIDStatus.Available,
					UserIDStatus.Enabled,
					UserIDStatus.Disabled,
				],
			}),
			ccCaps({
				ccId: CommandClasses.Notification,
				version: 8,
				supportsV1Alarm: false,
				notificationTypesAndEvents: {
					[ACCESS_CONTROL]: SUPPORTED_ACCESS_CONTROL_EVENTS,
				},
			}),
		],
	},
});
node.defineBehavior(...createDefaultMockNodeBehaviors());
node.defineBehavior(answerBatteryGet, answerNotificationGet, refuseDuplicates, refuseClearing);
node.defineBehavior(gate); // defined last, so it runs first
controller.addNode(node);
seedLock();

const driverReady = new Promise((resolve) => driver.once("driver ready", resolve));
const allNodesReady = new Promise((resolve) => driver.once("all nodes ready", resolve));
continueStartup();
await driverReady;

if (wsPort === 0) {
	// The server cannot listen on port 0 and tell us the port, so pick a free one first.
	const probe = createTcpServer();
	await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
	wsPort = probe.address().port;
	await new Promise((resolve) => probe.close(resolve));
}
const server = new ZwavejsServer(driver, {
	host: "127.0.0.1",
	port: wsPort,
	enableDNSServiceDiscovery: false,
	logger: {
		error: (message, error) => console.error("[server]", message, error ?? ""),
		warn: (message) => console.error("[server]", message),
		info: (message) => log("[server]", message),
		debug: (message) => log("[server]", message),
	},
});
await server.start(true);
await allNodesReady;

// --- control channel -------------------------------------------------------------------

class HttpError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

function requireOnline() {
	if (!online) throw new HttpError(409, "the lock is offline");
}

function slotFromBody(body) {
	if (body.slot !== undefined) {
		const slot = Number(body.slot);
		if (!Number.isInteger(slot) || slot < 1 || slot > NUM_USERS) {
			throw new HttpError(400, `slot must be 1..${NUM_USERS}`);
		}
		return slot;
	}
	if (body.code !== undefined) {
		for (let slot = 1; slot <= NUM_USERS; slot++) {
			if (slotStatus(slot) === UserIDStatus.Enabled && slotCode(slot) === String(body.code)) {
				return slot;
			}
		}
		throw new HttpError(409, "no enabled slot holds this code");
	}
	throw new HttpError(400, "give slot or code");
}

/** Whether the driver's cache holds what the lock's memory holds in `slot`. */
function driverSeesSlot(slot) {
	const driverNode = driver.controller.nodes.get(NODE_ID);
	if (!driverNode) return true;
	const value = (property) =>
		driverNode.getValue({
			commandClass: CommandClasses["User Code"],
			property,
			propertyKey: slot,
		});
	const status = slotStatus(slot);
	if (value("userIdStatus") !== status) return false;
	return !isOccupied(status) || codeToString(value("userCode")) === slotCode(slot);
}

function driverNodeStatus() {
	const driverNode = driver.controller.nodes.get(NODE_ID);
	// NodeStatus: 0 unknown, 1 asleep, 2 awake, 3 dead, 4 alive
	return ["unknown", "asleep", "awake", "dead", "alive"][driverNode?.status ?? 0];
}

function status() {
	return {
		node_id: NODE_ID,
		online,
		reject_duplicates: rejectDuplicates,
		refuse_clears: refuseClears,
		bolt: node.state.get(DOOR_LOCK_MODE_KEY) === DoorLockMode.Secured ? "locked" : "unlocked",
		battery: node.state.get(BATTERY_KEY),
		unheard,
		driver_node_status: driverNodeStatus(),
	};
}

const routes = {
	"GET /status": async () => status(),
	"GET /codes": async () => readCodes(),
	"GET /frames": async () => Object.fromEntries([...received].sort()),
	"POST /frames/reset": async () => {
		received.clear();
		return {};
	},
	"POST /keypad-unlock": async (body) => {
		requireOnline();
		const slot = slotFromBody(body);
		if (slotStatus(slot) !== UserIDStatus.Enabled) {
			throw new HttpError(409, `slot ${slot} holds no enabled code`);
		}
		await sendAccessControl(EVENT.keypadUnlock, await userCodeReportBytes(slot));
		await sendBoltReport(DoorLockMode.Unsecured);
		return { slot, ...status() };
	},
	"POST /keypad-lock": async (body) => {
		requireOnline();
		const slot = body.slot === undefined && body.code === undefined ? 0 : slotFromBody(body);
		await sendAccessControl(
			EVENT.keypadLock,
			slot ? await userCodeReportBytes(slot) : undefined,
		);
		await sendBoltReport(DoorLockMode.Secured);
		return { slot, ...status() };
	},
	"POST /manual-lock": async () => {
		requireOnline();
		await sendAccessControl(EVENT.manualLock);
		await sendBoltReport(DoorLockMode.Secured);
		return status();
	},
	"POST /manual-unlock": async () => {
		requireOnline();
		await sendAccessControl(EVENT.manualUnlock);
		await sendBoltReport(DoorLockMode.Unsecured);
		return status();
	},
	"POST /wrong-code": async () => {
		requireOnline();
		await sendAccessControl(EVENT.codeLimitExceeded);
		return status();
	},
	"POST /battery": async (body) => {
		requireOnline();
		const level = Number(body.level);
		if (!Number.isInteger(level) || level < 0 || level > 100) {
			throw new HttpError(400, "level must be 0..100");
		}
		await sendBatteryReport(level);
		return status();
	},
	"POST /keypad-program": async (body) => {
		requireOnline();
		const slot = slotFromBody({ slot: body.slot });
		const code = String(body.code ?? "");
		if (!/^[0-9]{4,10}$/.test(code)) throw new HttpError(400, "code must be 4-10 digits");
		writeSlot(slot, UserIDStatus.Enabled, code);
		await sendSlotReport(slot);
		await sendAccessControl(EVENT.codeAdded, await userCodeReportBytes(slot));
		return { slot, ...status() };
	},
	"POST /keypad-delete": async (body) => {
		requireOnline();
		const slot = slotFromBody({ slot: body.slot });
		writeSlot(slot, UserIDStatus.Available, undefined);
		await sendSlotReport(slot);
		await sendAccessControl(EVENT.codeDeleted, await userCodeReportBytes(slot));
		return { slot, ...status() };
	},
	"POST /wipe": async (body) => {
		requireOnline();
		const held = [];
		for (let slot = 1; slot <= NUM_USERS; slot++) {
			if (slotStatus(slot) !== UserIDStatus.Available) held.push(slot);
			writeSlot(slot, UserIDStatus.Available, undefined);
		}
		await sendAccessControl(EVENT.allCodesDeleted);
		if (body.slot_reports ?? true) {
			for (const slot of held) await sendSlotReport(slot);
		}
		return { wiped: held, ...status() };
	},
	"POST /refuse-clears": async (body) => {
		refuseClears = Boolean(body.on);
		return status();
	},
	"POST /reject-duplicates": async (body) => {
		rejectDuplicates = Boolean(body.on);
		return status();
	},
	"POST /offline": async (body) => {
		await setOnline(!body.on);
		return status();
	},
	"POST /reset": async () => {
		await setOnline(true);
		rejectDuplicates = false;
		refuseClears = false;
		// Like a keypad reprogramming: the lock reports every slot it changes.
		for (let slot = 1; slot <= NUM_USERS; slot++) {
			const [status, code] =
				slot === SEED_SLOT
					? [UserIDStatus.Enabled, SEED_CODE]
					: [UserIDStatus.Available, null];
			if (slotStatus(slot) !== status || (isOccupied(status) && slotCode(slot) !== code)) {
				writeSlot(slot, status, code ?? undefined);
				await sendSlotReport(slot);
			}
		}
		if (node.state.get(DOOR_LOCK_MODE_KEY) !== DoorLockMode.Secured) {
			await sendBoltReport(DoorLockMode.Secured);
		}
		if (node.state.get(BATTERY_KEY) !== 100) await sendBatteryReport(100);
		// What the driver still sends for the previous test (a verification read) must
		// not be counted for the next one: the reads it scheduled for later are dropped,
		// the ones already queued are waited for.
		driver.controller.nodes.get(NODE_ID)?.cancelAllScheduledPolls();
		await queueIdle(5000);
		// A dropped read would have corrected what the driver assumed after a write: the
		// lock reports every slot the driver sees otherwise than it is.
		for (let slot = 1; slot <= NUM_USERS; slot++) {
			if (!driverSeesSlot(slot)) await sendSlotReport(slot);
		}
		received.clear();
		return status();
	},
};

async function queueIdle(ms) {
	const idleBy = Date.now() + ms;
	while (!driver.queueIdle && Date.now() < idleBy) {
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

async function setOnline(on) {
	if (on === online) return;
	if (on) {
		// What the driver is still sending into the void (each attempt waits for the
		// mock's 1 s ACK timeout) fails before the lock is back.
		const idleBy = Date.now() + 5000;
		while (!driver.queueIdle && Date.now() < idleBy) {
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
	} else {
		unheard = 0;
	}
	online = on;
	node.autoAckControllerFrames = on;
	if (!on) return;
	// Back in range: the lock's next frame makes the driver mark it alive again.
	await sendBoltReport(node.state.get(DOOR_LOCK_MODE_KEY) ?? DoorLockMode.Secured);
	const deadline = Date.now() + 2000;
	while (driverNodeStatus() === "dead" && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

async function readBody(request) {
	const chunks = [];
	for await (const chunk of request) chunks.push(chunk);
	const text = Buffer.concat(chunks).toString("utf8").trim();
	if (!text) return {};
	try {
		const body = JSON.parse(text);
		if (body === null || typeof body !== "object") throw new Error("not an object");
		return body;
	} catch {
		throw new HttpError(400, "body must be a JSON object");
	}
}

// Serialize control requests: each one finishes (frames sent) before the next starts.
let queue = Promise.resolve();

const control = createServer((request, response) => {
	const reply = (code, payload) => {
		response.writeHead(code, { "content-type": "application/json" });
		response.end(JSON.stringify(payload));
	};
	queue = queue.then(async () => {
		try {
			const route = routes[`${request.method} ${request.url}`];
			if (!route) throw new HttpError(404, `no route ${request.method} ${request.url}`);
			reply(200, await route(await readBody(request)));
		} catch (error) {
			const code = error instanceof HttpError ? error.status : 500;
			if (code === 500) console.error("[rig] control error:", error);
			reply(code, { error: String(error?.message ?? error) });
		}
	});
});
control.listen(controlPort, "127.0.0.1");
await new Promise((resolve) => control.once("listening", resolve));

// --- shutdown --------------------------------------------------------------------------

let stopping = false;
async function stop(reason) {
	if (stopping) return;
	stopping = true;
	log(`stopping (${reason})`);
	const force = setTimeout(() => process.exit(1), 5000);
	force.unref();
	try {
		control.close();
		await server.destroy();
		await driver.destroy();
	} catch (error) {
		console.error("[rig] error while stopping:", error);
	}
	if (ownCacheDir) rmSync(cacheDir, { recursive: true, force: true });
	process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
const parent = process.ppid;
setInterval(() => {
	try {
		process.kill(parent, 0); // throws once the parent is gone
	} catch {
		void stop("parent exited");
	}
}, 1000).unref();

console.log(
	`READY ws=${wsPort} control=${control.address().port} node=${NODE_ID} home=${HOME_ID}`,
);
