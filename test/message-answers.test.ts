import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ServerFrame } from "@strangers/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pairUp, type TestSocket, waitUntil } from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

/** What the room answered about each of the sender's messages, by clientId: the echo, or an error naming it. */
function answers(socket: TestSocket): Map<string, ServerFrame> {
  const byClientId = new Map<string, ServerFrame>();
  for (const f of socket.frames)
    if ((f.type === "message" || f.type === "error") && f.clientId) byClientId.set(f.clientId, f);
  return byClientId;
}

const received = (socket: TestSocket, clientId: string) =>
  socket.frames.some((f) => f.type === "message" && f.clientId === clientId);

/** Breaks the room's history table the way a failing storage would: the next write throws. */
const breakHistory = (sessionId: string) =>
  runInDurableObject(room(sessionId), (_instance, state) => {
    state.storage.sql.exec("DROP TABLE IF EXISTS history");
    state.storage.sql.exec("CREATE TABLE history (broken INTEGER)");
  });

const repairHistory = (sessionId: string) =>
  runInDurableObject(room(sessionId), (_instance, state) => {
    state.storage.sql.exec("DROP TABLE history");
    state.storage.sql.exec(
      "CREATE TABLE history (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, client_id TEXT, masked INTEGER)",
    );
  });

describe("every message a room receives is answered to its sender", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a burst past the flood budget message by message: the echo, or rate_limited naming it; the partner gets exactly the echoed ones, in order", async () => {
    const { aliceChat: alice, bobChat: bob } = await pairUp();
    const ids = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    for (const id of ids) alice.send({ type: "message", text: `line ${id}`, clientId: id });
    await waitUntil(() => answers(alice).size === ids.length, 5000, "every message answered");
    const echoed = ids.filter((id) => answers(alice).get(id)?.type === "message");
    const refused = ids.filter((id) => answers(alice).get(id)?.type === "error");
    expect(echoed.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(0);
    for (const id of refused) expect(answers(alice).get(id)).toMatchObject({ type: "error", code: "rate_limited" });
    await waitUntil(() => echoed.every((id) => received(bob, id)), 5000, "the partner has every echoed message");
    const atBob = bob.frames.flatMap((f) => (f.type === "message" && f.clientId ? [f.clientId] : []));
    expect(atBob).toEqual(echoed);
  });

  it("answers a message it could not store with internal_error naming it, logs the failure without the text, and keeps the socket", async () => {
    const { aliceMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    alice.send({ type: "message", text: "first", clientId: "c1" });
    await waitUntil(() => received(bob, "c1") && received(alice, "c1"), 5000, "the first message");

    const warn = vi.spyOn(console, "warn");
    await breakHistory(aliceMatch.sessionId);
    alice.send({ type: "message", text: "a secret that must not be logged", clientId: "c2" });
    expect(await alice.next("error")).toMatchObject({ code: "internal_error", clientId: "c2" });
    // The partner's copy went out before the write (it does not wait for the disk); the sender
    // resends under the same clientId, and clients show a message once per clientId.
    const logged = warn.mock.calls.map(([line]) => String(line));
    expect(
      logged.some((line) => line.includes('"event":"chat.message_failed"') && line.includes(aliceMatch.sessionId)),
    ).toBe(true);
    expect(logged.some((line) => line.includes("secret"))).toBe(false);

    // The socket is kept, and once storage works again so does the chat.
    await repairHistory(aliceMatch.sessionId);
    alice.send({ type: "message", text: "again", clientId: "c3" });
    await waitUntil(() => received(bob, "c3") && received(alice, "c3"), 5000, "the message after the failure");
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
  });
});
