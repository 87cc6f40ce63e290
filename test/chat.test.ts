import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { CLOSE } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import type { RoomState } from "../worker/room/rules";
import {
  connect,
  match,
  matched,
  newUser,
  pairUp,
  timePasses,
  uniqueMode,
  upgrade,
  waitOnSocket,
  windows,
} from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));

describe("chatting in a room", () => {
  it("relays messages between the pair and acknowledges the sender", async () => {
    const { aliceMatch, bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    expect(aliceMatch.sessionId).toBe(bobMatch.sessionId);
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

  it("welcomes each side with the protocol version, who is who, and the partner's presence", async () => {
    const { aliceMatch, bobMatch, aliceChat, bobChat } = await pairUp();
    const [aliceWelcome] = aliceChat.frames;
    const [bobWelcome] = bobChat.frames;
    expect(aliceWelcome).toMatchObject({
      type: "welcome",
      v: 3,
      sessionId: aliceMatch.sessionId,
      you: { name: "Alice" },
      partner: { id: aliceMatch.partnerId, name: "Bob", online: true },
    });
    // Bob joined first, so Alice was not there yet when he was welcomed.
    expect(bobWelcome).toMatchObject({
      type: "welcome",
      v: 3,
      you: { name: "Bob" },
      partner: { id: bobMatch.partnerId, name: "Alice", online: false },
    });
    expect(bobChat.frames.find((f) => f.type === "partner_joined")).toMatchObject({
      partner: { id: bobMatch.partnerId, online: true },
    });
  });

  it("pushes the pairing to a user waiting on its socket, which refuses chat frames meanwhile", async () => {
    const mode = uniqueMode();
    const { socket } = await waitOnSocket(newUser({ mode }));
    socket.send({ type: "message", text: "anyone?" });
    expect(await socket.next("error")).toMatchObject({ code: "not_paired" });

    const zoe = await matched(newUser({ mode, userName: "Zoe" }));
    await (await connect(zoe.wsUrl, zoe.token)).next("welcome");
    expect(await socket.next("matched")).toMatchObject({ sessionId: zoe.sessionId, partnerName: "Zoe" });
    expect((await socket.closed).code).toBe(CLOSE.matched);
  });

  it("refuses sockets without the right credentials, before the upgrade where it can, by close code after", async () => {
    const { bobMatch } = await pairUp();
    const url = new URL(bobMatch.wsUrl);
    const unknown = new URL(url);
    unknown.searchParams.set("sessionId", "nosuchsession0000000");
    const malformed = new URL(url);
    malformed.searchParams.set("sessionId", "../../x");
    const refusals = [
      [await upgrade(unknown.toString()), 404, "session_not_found"],
      [await upgrade(malformed.toString()), 400, "invalid_query"],
      [await upgrade(url.toString(), {}), 426, "upgrade_required"],
    ] as const;
    for (const [res, status, code] of refusals) {
      expect(res.status).toBe(status);
      expect(res.webSocket).toBeNull();
      expect(await res.json()).toMatchObject({ success: false, error: { code } });
    }

    const wrongToken = await connect(bobMatch.wsUrl, "x".repeat(32));
    expect(await wrongToken.next("error")).toMatchObject({ code: "invalid_token" });
    expect((await wrongToken.closed).code).toBe(CLOSE.unauthorized);
    const noHello = await connect(bobMatch.wsUrl, null);
    noHello.send({ type: "message", text: "let me in" });
    expect((await noHello.closed).code).toBe(CLOSE.unauthorized);
  });

  it("replays exactly the last 20 messages, oldest first, to a fresh connection", async () => {
    const { aliceMatch, bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    for (let i = 1; i <= 25; i++) {
      (i % 2 ? alice : bob).send({ type: "message", text: `message ${i}` });
      await alice.next("message");
    }
    const fresh = await connect(bobMatch.wsUrl, bobMatch.token);
    const { history } = await fresh.next("welcome");
    expect(history.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i + 6}`));
    expect(history[0].from).toBe(aliceMatch.partnerId);
  });

  it("keeps history when the room is evicted, and a reconnect replaces the old socket", async () => {
    const { aliceMatch, bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    alice.send({ type: "message", text: "before eviction" });
    await bob.next("message");

    await evictDurableObject(room(aliceMatch.sessionId), { webSockets: "close" });
    expect((await bob.closed).code).not.toBe(CLOSE.ended);

    const bobAgain = await connect(bobMatch.wsUrl, bobMatch.token);
    expect((await bobAgain.next("welcome")).history.map((m) => m.text)).toEqual(["before eviction"]);
    const bobThird = await connect(bobMatch.wsUrl, bobMatch.token);
    await bobThird.next("welcome");
    expect((await bobAgain.closed).code).toBe(CLOSE.replaced);
    const aliceAgain = await connect(aliceMatch.wsUrl, aliceMatch.token);
    await aliceAgain.next("welcome");
    aliceAgain.send({ type: "message", text: "after eviction" });
    expect(await bobThird.next("message")).toMatchObject({ text: "after eviction" });
  });

  it("tells the partner when one side drops and comes back", async () => {
    const { aliceMatch, bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    bob.ws.close(1000, "network change");
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    await connect(bobMatch.wsUrl, bobMatch.token);
    expect(await alice.next("partner_online")).toMatchObject({ partnerId: aliceMatch.partnerId });
  });

  it("ends the chat for both on leave, and both can match again", async () => {
    const criteria = { mode: uniqueMode() };
    const { alice: aliceUser, bob: bobUser, bobMatch, aliceChat: alice, bobChat: bob } = await pairUp(criteria);
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
    const { bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    alice.send({ type: "message", text: "kept" });
    await bob.next("message");

    const bad: [unknown, string, RegExp][] = [
      ["not json", "invalid_frame", /JSON/],
      [{ type: "dance" }, "invalid_frame", /type/],
      [{ type: "message", text: "   " }, "invalid_frame", /text/],
      [{ type: "message", text: "x".repeat(2001) }, "invalid_frame", /text/],
      [{ type: "message", text: 42 }, "invalid_frame", /text/],
      [{ type: "typing", isTyping: "yes" }, "invalid_frame", /isTyping/],
      [`[${"1,".repeat(10_000)}1]`, "frame_too_large", /at most/],
    ];
    for (const [frame, code, message] of bad) {
      alice.send(frame);
      const error = await alice.next("error");
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    alice.ws.send(new Uint8Array([1, 2, 3]));
    expect(await alice.next("error")).toMatchObject({ code: "unsupported_data" });
    // An invalid message is named by its clientId, so the client stops re-sending it.
    alice.send({ type: "message", text: "x".repeat(2001), clientId: "too-long" });
    expect(await alice.next("error")).toMatchObject({ code: "invalid_frame", clientId: "too-long" });

    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    alice.send({ type: "message", text: "still here" });
    expect(await bob.next("message")).toMatchObject({ text: "still here" });
    const fresh = await connect(bobMatch.wsUrl, bobMatch.token);
    expect((await fresh.next("welcome")).history.map((m) => m.text)).toEqual(["kept", "still here"]);
  });
});

describe("room cleanup", () => {
  it("deletes an idle room with its alarm, and a second run is harmless", async () => {
    const { aliceMatch, bobMatch, aliceChat: alice } = await pairUp();
    alice.send({ type: "message", text: "soon forgotten" });
    await alice.next("message");
    const stub = room(aliceMatch.sessionId);

    // Not idle yet: the alarm only keeps its deadline.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);

    // Five minutes pass (the rules are tested with a fake clock; here only the wiring).
    const unit = `unit:${aliceMatch.sessionId}`;
    await runInDurableObject(stub, async (instance, state) => {
      const silent = (await state.storage.get<RoomState>(unit)) as Extract<RoomState, { kind: "chatting" }>;
      silent.lastActivity -= 301_000;
      await state.storage.put(unit, silent);
      state.storage.sql.exec("UPDATE history SET at = at - 301000");
      (instance as unknown as { state: RoomState }).state = silent;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await alice.next("closed")).toMatchObject({ reason: "idle" });
    expect((await alice.closed).code).toBe(CLOSE.ended);

    await runInDurableObject(stub, async (instance, state) => {
      await instance.alarm();
      expect(await state.storage.get(unit)).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
      expect([
        ...state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'history'"),
      ]).toEqual([]);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    // Storage is empty, so once this instance is gone the room is unknown (404); until then, ended (410).
    expect((await upgrade(bobMatch.wsUrl)).status).toBe(410);
  });

  it("ends a chat whose waiter never joins, and the newcomer can look again", async () => {
    const mode = uniqueMode();
    await waitOnSocket(newUser({ mode }));
    // The waiter is told where to go, and never comes.
    const newcomer = newUser({ mode });
    const bob = await matched(newcomer);
    const bobChat = await connect(bob.wsUrl, bob.token);
    await bobChat.next("welcome");
    // The connect window (3 s in tests) passes, and the room's alarm finds the waiter never came.
    await timePasses(windows.connectWindowMs, room(bob.sessionId));
    await runDurableObjectAlarm(room(bob.sessionId));
    expect(await bobChat.next("closed")).toMatchObject({ reason: "partner_missing" });
    expect(await match(newcomer)).toMatchObject({ success: true });
  });
});
