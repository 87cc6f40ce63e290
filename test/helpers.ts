import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { MatchFound, MatchRequest, MatchResponse, ServerFrame } from "../worker/protocol";

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

/** A queue of its own for one test, so concurrent or earlier tests cannot pair into it. */
export const uniqueLanguage = () => `t${crypto.randomUUID().slice(0, 8)}`;

export async function postMatch(body: unknown, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}/api/match`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

export async function match(body: MatchRequest): Promise<MatchResponse> {
  const res = await postMatch(body);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** Two strangers in one queue: the first waits, the second takes the first's room. */
export async function pairUp(criteria: Partial<MatchRequest> = { language: uniqueLanguage() }) {
  const alice = newUser({ userName: "Alice", ...criteria });
  const bob = newUser({ userName: "Bob", ...criteria });
  const waiting = await match(alice);
  if (waiting.matched) throw new Error("Alice should have waited");
  const bobMatch = (await match(bob)) as MatchFound;
  expect(bobMatch.matched).toBe(true);
  const aliceMatch = (await match({ ...alice, ticket: waiting.ticket })) as MatchFound;
  expect(aliceMatch.matched).toBe(true);
  return { alice, bob, aliceMatch, bobMatch };
}

export type TestSocket = {
  ws: WebSocket;
  frames: ServerFrame[];
  /** Resolves with the next frame of this type not yet consumed, or fails after `timeoutMs`. */
  next<T extends ServerFrame["type"]>(type: T, timeoutMs?: number): Promise<Extract<ServerFrame, { type: T }>>;
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
};

export async function connect(wsUrl: string): Promise<TestSocket> {
  const res = await upgrade(wsUrl);
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  const frames: ServerFrame[] = [];
  const consumed = new Set<ServerFrame>();
  const waiters = new Set<() => void>();
  let resolveClosed!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string));
    for (const w of waiters) w();
  });
  ws.addEventListener("close", (e) => resolveClosed({ code: e.code, reason: e.reason }));
  ws.accept();
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
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
          reject(new Error(`no "${type}" frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.type))}`));
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a condition (for counting frames, where no single frame marks the end). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
