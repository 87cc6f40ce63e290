import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import {
  type MatchFound,
  type MatchRequest,
  type MatchResponse,
  type MatchWaiting,
  type Pairing,
  PING,
  type ServerFrame,
} from "@strangers/protocol";
import { expect } from "vitest";
import { Lobby } from "../worker/matching/lobby";
import type { WaitState } from "../worker/matching/lobby-rules";
import type { StoredWait, WaitStore } from "../worker/matching/wait-store";
import { timings, widening } from "../worker/platform/config";
import { attachmentOf } from "../worker/platform/socket-object";
import { deviceStub } from "../worker/platform/stubs";
import { ChatRoom } from "../worker/room/chat-room";
import type { RoomState } from "../worker/room/rules";
import { fingerprint } from "../worker/trust/identity";

const ORIGIN = "http://chat.test";

/** The short windows this project runs with (vitest.config.ts), as the worker reads them. */
export const windows = { ...timings(env), ...widening(env) };

let counter = 0;

/** A fresh anonymous user: unique ids per call so tests never see each other's queue entries. */
export function newUser(overrides: Partial<MatchRequest> = {}): MatchRequest {
  const n = ++counter;
  return {
    userId: `user-${n}-${crypto.randomUUID()}`,
    deviceId: `device-${n}-${crypto.randomUUID()}`,
    userName: `Tester ${n}`,
    ...overrides,
  };
}

/** A mode of its own for one test (modes are free, languages are real tags), so other tests cannot pair into its queues. */
export const uniqueMode = () => `t${crypto.randomUUID().slice(0, 8)}`;

export async function postMatch(body: unknown, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}/api/match`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers as Record<string, string> | undefined) },
  });
}

/** `from`: the caller's address (CF-Connecting-IP), for tests where networks matter. */
type From = { from?: string };
const fromHeaders = ({ from }: From) => (from ? { headers: { "CF-Connecting-IP": from } } : {});

export async function match(body: MatchRequest, caller: From = {}): Promise<MatchResponse> {
  const res = await postMatch(body, fromHeaders(caller));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

export async function wait(body: MatchRequest, caller: From = {}): Promise<MatchWaiting> {
  const res = await match(body, caller);
  if (res.matched) throw new Error("expected to wait, but was matched");
  return res;
}

export async function matched(body: MatchRequest, caller: From = {}): Promise<MatchFound> {
  const res = await match(body, caller);
  if (!res.matched) throw new Error("expected a match, but was told to wait");
  return res;
}

/** The secret half of a ticket: what the waiting socket's hello carries. */
export const ticketToken = (ticket: string) => ticket.split(".")[1];

/** A user waiting on its socket, the way the web page waits. */
export async function waitOnSocket(body: MatchRequest, caller: From = {}) {
  const waiting = await wait(body, caller);
  const socket = await connect(waiting.wsUrl, ticketToken(waiting.ticket));
  await socket.next("waiting");
  return { waiting, socket };
}

/** The lobby (a raw stub, not metered) that holds a mode's queues of one language. */
export const lobbyOf = (mode: string, language = "any") => env.LOBBY.get(env.LOBBY.idFromName(`${mode}/${language}`));

/** The waits a lobby can still pair (waiting, or lent to the pool), oldest first. */
export const waitingIn = (mode: string, language = "any"): Promise<string[]> =>
  runInDurableObject(lobbyOf(mode, language), (lobby: Lobby) =>
    [...lobby.all()].filter((w) => w.kind !== "matched").map((w) => w.seatId),
  );

/** The room of a pairing. */
export const roomOf = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

/** The wait a ticket names. */
export const seatOf = (ticket: string) => ticket.split(".")[0];

/**
 * Two strangers in one queue, chatting: Alice waits on her socket, Bob is paired with her at
 * once and joins the chat; Alice hears of it on her socket and joins too.
 */
export async function pairUp(criteria: Partial<MatchRequest> = { mode: uniqueMode() }) {
  const alice = newUser({ userName: "Alice", ...criteria });
  const bob = newUser({ userName: "Bob", ...criteria });
  const { socket: aliceWait } = await waitOnSocket(alice);
  const bobMatch = await matched(bob);
  const bobChat = await connect(bobMatch.wsUrl, bobMatch.token);
  await bobChat.next("welcome");
  const aliceMatch = await aliceWait.next("matched");
  const aliceChat = await connect(aliceMatch.wsUrl, aliceMatch.token);
  await aliceChat.next("welcome");
  await bobChat.next("partner_joined");
  return { alice, bob, aliceMatch: aliceMatch as Pairing, bobMatch, aliceChat, bobChat };
}

export type TestSocket = {
  ws: WebSocket;
  frames: ServerFrame[];
  /** Resolves with the next frame of this type not yet consumed, or fails after `timeoutMs`. */
  next<T extends ServerFrame["type"]>(type: T, timeoutMs?: number): Promise<Extract<ServerFrame, { type: T }>>;
  send(frame: unknown): void;
  /** Pings once more and resolves when the runtime has answered (or the socket closed). */
  ping(): Promise<void>;
  /** Stops the heartbeat, as a tab that vanished without closing its socket. */
  vanish(): void;
  closed: Promise<{ code: number; reason: string }>;
};

/** Four pings per heartbeat timeout, as clients keep well inside it (each project sets its own timeout). */
const PING_EVERY_MS = windows.heartbeatTimeoutMs / 4;
/** Test sockets whose heartbeat runs: neither vanished nor closed. Time that passes for an object finds them alive. */
const pinging = new Set<TestSocket>();

/**
 * Opens a socket (a wait or a chat) and identifies it with `hello`, like a real client.
 * It pings four times per heartbeat timeout (a second in most projects), as clients do (less
 * often, but tests run with short timeouts), unless `hello` is false (then it sends nothing at all).
 */
export async function connect(
  wsUrl: string,
  token: string | null,
  { hello = true, headers = {} as Record<string, string> } = {},
): Promise<TestSocket> {
  const res = await upgrade(wsUrl, { Upgrade: "websocket", ...headers });
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  const frames: ServerFrame[] = [];
  const consumed = new Set<ServerFrame>();
  const waiters = new Set<() => void>();
  let resolveClosed!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING), PING_EVERY_MS);
  /** Resolves with the first frame `find` finds once it finds one, or fails after `timeoutMs`. */
  const arrival = <F>(find: () => F | undefined, timeoutMs: number, what: string) =>
    new Promise<F>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.type))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const socket: TestSocket = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    vanish: () => {
      clearInterval(heartbeat);
      pinging.delete(socket);
    },
    next(type, timeoutMs = 5000) {
      const unread = () => {
        const frame = frames.find((f) => f.type === type && !consumed.has(f));
        if (frame) consumed.add(frame);
        return frame;
      };
      return arrival(unread, timeoutMs, `"${type}" frame`) as never;
    },
    async ping() {
      if (ws.readyState !== WebSocket.OPEN) return;
      const sent = frames.length;
      ws.send(PING);
      // A socket closing meanwhile answers too (null): nobody is there to be seen alive.
      const answer = () =>
        frames.slice(sent).find((f) => f.type === "pong") ?? (ws.readyState === WebSocket.OPEN ? undefined : null);
      await arrival(answer, 5000, "pong");
    },
  };
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string));
    for (const w of waiters) w();
  });
  ws.addEventListener("close", (e) => {
    clearInterval(heartbeat);
    pinging.delete(socket);
    resolveClosed({ code: e.code, reason: e.reason });
    for (const w of waiters) w();
  });
  ws.accept();
  if (hello && token !== null) {
    ws.send(JSON.stringify({ type: "hello", token }));
    pinging.add(socket);
  } else clearInterval(heartbeat);
  return socket;
}

/** The raw upgrade request, for checking refusals. */
export function upgrade(wsUrl: string, headers: Record<string, string> = { Upgrade: "websocket" }): Promise<Response> {
  return exports.default.fetch(wsUrl.replace(/^ws/, "http"), { headers });
}

/** Frames until the socket closes, and how it closed. */
export async function untilClosed(socket: TestSocket): Promise<{ code: number; frames: ServerFrame[] }> {
  const { code } = await socket.closed;
  return { code, frames: socket.frames };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a condition (for counting frames, where no single frame marks the end). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The real shard's record says this user's device passed the human check: its reports weigh in full. */
export async function vouchFor(user: { deviceId: string }): Promise<void> {
  const device = await fingerprint(env, user.deviceId);
  await deviceStub(env, device).passedHumanCheck(device);
}

/**
 * The moments the objects keep in private fields, by their names in worker/ (reached past
 * `private`, as chat.test.ts reaches a room's state). A field renamed there fails the tests that
 * let time pass, rather than the type check: the shapes are kept here, in one place.
 */
type SocketObjectClock = {
  lastFrameAt: Map<WebSocket, number>;
  budgets: Map<string, Map<unknown, { refilledAt: number; strikeWindowStart: number }>>;
};
type LobbyClock = { copies: { kinds: Map<string, string>; store: WaitStore } | null };
type RoomClock = { state: RoomState | null; livenessReadAt: number; startedAt: number };

/**
 * Time passes for these objects (lobbies, rooms) without anyone waiting for it: every moment they
 * remember moves `ms` into the past. A lobby's waits (when each began, was last polled, was lent,
 * must be joined by; a stored copy moves with its wait); a room's opening, last activity, empty
 * spell and messages; and for both, when each socket connected and last sent a frame, and the frame
 * budgets (so they refill). What the runtime keeps cannot move: when each socket last pinged. So
 * every test socket still pinging pings once more, as it would have meanwhile, and is seen alive;
 * one that vanished is not. No alarm runs: a test runs the one whose work it is about
 * (`runDurableObjectAlarm`), as the runtime would once the deadline came.
 */
export async function timePasses(ms: number, ...objects: DurableObjectStub[]): Promise<void> {
  // Times are whole milliseconds everywhere (a KV copy's key spells one).
  if (!Number.isInteger(ms)) throw new Error(`time passes in whole milliseconds, not ${ms}`);
  for (const stub of objects)
    await runInDurableObject(stub, (instance: Lobby | ChatRoom, state) => movedBack(instance, state, ms));
  await Promise.all([...pinging].map((socket) => socket.ping()));
}

async function movedBack(instance: Lobby | ChatRoom, state: DurableObjectState, ms: number): Promise<void> {
  const clock = instance as unknown as SocketObjectClock;
  for (const [ws, at] of clock.lastFrameAt) clock.lastFrameAt.set(ws, at - ms);
  for (const guards of clock.budgets.values())
    for (const guard of guards.values()) {
      guard.refilledAt -= ms;
      guard.strikeWindowStart -= ms;
    }
  for (const ws of state.getWebSockets()) {
    const attachment = attachmentOf(ws);
    attachment.connectedAt -= ms;
    if (attachment.keep) earlier(attachment.keep as WaitState, ms);
    ws.serializeAttachment(attachment);
  }
  if (instance instanceof Lobby) await lobbyMovedBack(instance, ms);
  else if (instance instanceof ChatRoom) await roomMovedBack(instance, state, ms);
}

/** Every step of a lobby replaces its waits whole, so between steps they can be changed where they are. */
async function lobbyMovedBack(lobby: Lobby, ms: number): Promise<void> {
  const { copies } = lobby as unknown as LobbyClock;
  const stored: [was: StoredWait, is: StoredWait][] = [];
  for (const w of [...lobby.all()]) {
    const was = structuredClone(w);
    earlier(w, ms);
    if (copies?.kinds.has(w.seatId)) stored.push([was as StoredWait, w as StoredWait]);
  }
  // A KV copy is keyed by when its wait began: written again under the new time, as if written then.
  for (const [was, is] of stored) {
    await copies!.store.remove(was);
    await copies!.store.save(is);
  }
}

function earlier(w: WaitState, ms: number): void {
  w.enqueuedAt -= ms;
  w.polledAt -= ms;
  if (w.home) w.home.presentUntil -= ms;
  if (w.kind === "lent") w.lentAt -= ms;
  if (w.kind === "matched") w.until -= ms;
}

async function roomMovedBack(room: ChatRoom, state: DurableObjectState, ms: number): Promise<void> {
  const clock = room as unknown as RoomClock;
  clock.startedAt -= ms;
  clock.livenessReadAt -= ms;
  const earlierRoom = (s: RoomState): RoomState =>
    s.kind === "ended"
      ? s
      : {
          ...s,
          openedAt: s.openedAt - ms,
          lastActivity: s.lastActivity - ms,
          emptySince: s.emptySince === null ? null : s.emptySince - ms,
        };
  if (clock.state) clock.state = earlierRoom(clock.state);
  for (const [key, stored] of await state.storage.list<RoomState>({ prefix: "unit:" }))
    await state.storage.put(key, earlierRoom(stored));
  const sql = state.storage.sql;
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history'").toArray().length)
    sql.exec("UPDATE history SET at = at - ?", ms);
}
