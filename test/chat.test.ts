import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CLOSE } from "../worker/protocol";
import { connect, match, newUser, pairUp, uniqueLanguage, upgrade } from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

describe("chatting in a room", () => {
  it("relays messages between the pair and acknowledges the sender", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    expect(aliceMatch.sessionId).toBe(bobMatch.sessionId);
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    const welcome = await bob.next("welcome");
    expect(welcome.status).toBe("paired");
    expect(welcome.partner).toMatchObject({ id: bobMatch.partnerId, name: "Alice", online: true });
    await alice.next("partner_joined");

    alice.send({ type: "message", text: "  hello bob  ", clientId: "c1" });
    const atBob = await bob.next("message");
    const ack = await alice.next("message");
    expect(atBob).toMatchObject({ text: "hello bob", from: bobMatch.partnerId, clientId: "c1" });
    expect(ack.id).toBe(atBob.id);

    bob.send({ type: "typing", isTyping: true });
    expect(await alice.next("typing")).toMatchObject({ isTyping: true, from: aliceMatch.partnerId });
    bob.send({ type: "message", text: "hi alice" });
    expect(await alice.next("message")).toMatchObject({ text: "hi alice", from: aliceMatch.partnerId });
  });

  it("pushes the pairing to a user waiting on its socket", async () => {
    const language = uniqueLanguage();
    const waiting = await match(newUser({ language }));
    if (waiting.matched) throw new Error("expected to wait");
    const socket = await connect(waiting.wsUrl);
    expect((await socket.next("welcome")).status).toBe("waiting");
    socket.send({ type: "message", text: "anyone?" });
    expect(await socket.next("error")).toMatchObject({ code: "not_paired" });

    const stranger = await match(newUser({ language, userName: "Zoe" }));
    expect(stranger.matched).toBe(true);
    expect((await socket.next("paired")).partner).toMatchObject({ name: "Zoe" });
  });

  it("refuses anyone without the right token, before any upgrade", async () => {
    const { bobMatch } = await pairUp();
    const url = new URL(bobMatch.wsUrl);
    const noToken = new URL(url);
    noToken.searchParams.delete("token");
    const wrongToken = new URL(url);
    wrongToken.searchParams.set("token", "x".repeat(32));
    const unknown = new URL(url);
    unknown.searchParams.set("sessionId", "nosuchsession0000000");

    const cases = [
      [await upgrade(noToken.toString()), 401, "missing_token"],
      [await upgrade(wrongToken.toString()), 403, "invalid_token"],
      [await upgrade(unknown.toString()), 404, "session_not_found"],
      [await upgrade(url.toString(), {}), 426, "upgrade_required"],
    ] as const;
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(res.webSocket).toBeNull();
      expect(await res.json()).toMatchObject({ success: false, error: { code } });
    }
  });

  it("replays exactly the last 20 messages, oldest first, to a fresh connection", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    for (let i = 1; i <= 25; i++) {
      (i % 2 ? alice : bob).send({ type: "message", text: `message ${i}` });
      await alice.next("message");
    }

    const fresh = await connect(bobMatch.wsUrl);
    const { history } = await fresh.next("welcome");
    expect(history.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i + 6}`));
    expect(history[0].from).toBe(aliceMatch.partnerId);
  });

  it("keeps history when the room is evicted, and a reconnect replaces the old socket", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    alice.send({ type: "message", text: "before eviction" });
    await bob.next("message");

    await evictDurableObject(room(aliceMatch.sessionId), { webSockets: "close" });
    expect((await bob.closed).code).not.toBe(CLOSE.ended);

    const bobAgain = await connect(bobMatch.wsUrl);
    const welcome = await bobAgain.next("welcome");
    expect(welcome.history.map((m) => m.text)).toEqual(["before eviction"]);

    const bobThird = await connect(bobMatch.wsUrl);
    expect((await bobAgain.closed).code).toBe(CLOSE.replaced);
    await bobThird.next("welcome");
    const aliceAgain = await connect(aliceMatch.wsUrl);
    aliceAgain.send({ type: "message", text: "after eviction" });
    expect(await bobThird.next("message")).toMatchObject({ text: "after eviction" });
  });

  it("tells the partner when one side drops and comes back", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    await alice.next("partner_joined");
    bob.ws.close(1000, "network change");
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    await connect(bobMatch.wsUrl);
    expect(await alice.next("partner_online")).toMatchObject({ partnerId: aliceMatch.partnerId });
  });

  it("ends the chat for both on leave, and both can match again", async () => {
    const criteria = { language: uniqueLanguage() };
    const { alice: aliceUser, bob: bobUser, aliceMatch, bobMatch } = await pairUp(criteria);
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    await bob.next("welcome");
    alice.send({ type: "leave" });
    expect(await bob.next("partner_left")).toMatchObject({ partnerId: bobMatch.partnerId });
    expect(await bob.next("closed")).toMatchObject({ reason: "left" });
    expect((await bob.closed).code).toBe(CLOSE.ended);
    expect((await alice.closed).code).toBe(CLOSE.ended);

    const gone = await upgrade(bobMatch.wsUrl);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: "session_ended" } });

    // Both are free to match again (with someone new: Next never hands back the same stranger).
    expect((await match(bobUser)).matched).toBe(false);
    expect((await match(aliceUser)).matched).toBe(false);
    expect((await match(newUser(criteria))).matched).toBe(true);
  });

  it("answers bad frames with an error frame, keeps the socket and loses nothing", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const bob = await connect(bobMatch.wsUrl);
    alice.send({ type: "message", text: "kept" });
    await bob.next("message");

    const bad: [unknown, string, RegExp][] = [
      ["not json", "invalid_frame", /JSON/],
      [{ type: "dance" }, "invalid_frame", /type/],
      [{ type: "message", text: "   " }, "invalid_frame", /text/],
      [{ type: "message", text: "x".repeat(2001) }, "invalid_frame", /text/],
      [{ type: "message", text: 42 }, "invalid_frame", /text/],
      [{ type: "typing", isTyping: "yes" }, "invalid_frame", /isTyping/],
      ["[" + "1,".repeat(10_000) + "1]", "frame_too_large", /at most/],
    ];
    for (const [frame, code, message] of bad) {
      alice.send(frame);
      const error = await alice.next("error");
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    alice.ws.send(new Uint8Array([1, 2, 3]));
    expect(await alice.next("error")).toMatchObject({ code: "unsupported_data" });

    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    alice.send({ type: "message", text: "still here" });
    expect(await bob.next("message")).toMatchObject({ text: "still here" });
    const fresh = await connect(bobMatch.wsUrl);
    expect((await fresh.next("welcome")).history.map((m) => m.text)).toEqual(["kept", "still here"]);
  });
});

describe("room cleanup", () => {
  it("deletes an idle room with its alarm, and a second run is harmless", async () => {
    const { aliceMatch, bobMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    await connect(bobMatch.wsUrl);
    alice.send({ type: "message", text: "soon forgotten" });
    await alice.next("message");
    const stub = room(aliceMatch.sessionId);

    // Not idle yet: the alarm only reschedules itself.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);

    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { meta: { lastActivity: number } }).meta.lastActivity -= 301_000;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await alice.next("closed")).toMatchObject({ reason: "idle" });
    expect((await alice.closed).code).toBe(CLOSE.ended);

    await runInDurableObject(stub, async (instance, state) => {
      await instance.alarm();
      expect(await state.storage.get("meta")).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
      expect([...state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'messages'")]).toEqual([]);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    // Storage is empty, so once this instance is gone the room is unknown (404); until then, ended (410).
    expect((await upgrade(bobMatch.wsUrl)).status).toBe(410);
  });

  it("frees the waiting user when the stranger who claimed it never shows up", async () => {
    const { aliceMatch } = await pairUp();
    const alice = await connect(aliceMatch.wsUrl);
    const stub = room(aliceMatch.sessionId);
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { meta: { pairedAt: number } }).meta.pairedAt -= 60_000;
    });
    await runDurableObjectAlarm(stub);
    expect(await alice.next("closed")).toMatchObject({ reason: "partner_missing" });
  });
});
