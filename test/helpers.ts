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
import type { Lobby } from "../worker/matching/lobby";
import { deviceStub } from "../worker/platform/stubs";
import { fingerprint } from "../worker/trust/identity";

const ORIGIN = "http://chat.test";
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
  /** Stops the heartbeat, as a tab that vanished without closing its socket. */
  vanish(): void;
  closed: Promise<{ code: number; reason: string }>;
};

/**
 * Opens a socket (a wait or a chat) and identifies it with `hello`, like a real client.
 * It pings every second, as clients do (less often, but tests run with short timeouts), unless
 * `hello` is false (then it sends nothing at all).
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
  const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING), 1000);
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string));
    for (const w of waiters) w();
  });
  ws.addEventListener("close", (e) => {
    clearInterval(heartbeat);
    resolveClosed({ code: e.code, reason: e.reason });
  });
  ws.accept();
  if (hello && token !== null) ws.send(JSON.stringify({ type: "hello", token }));
  else clearInterval(heartbeat);
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    vanish: () => clearInterval(heartbeat),
    next(type, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const frame = frames.find((f) => f.type === type && !consumed.has(f));
          if (!frame) return false;
          consumed.add(frame);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(frame as never);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no "${type}" frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.type))}`),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
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
