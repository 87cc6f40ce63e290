import { CLOSE } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../worker/moderation/filter";
import type { Live, RoomEffect, RoomRules, RoomSetup, RoomState } from "../worker/room/rules";
import * as room from "../worker/room/rules";

// A fake clock: every time is a plain number of milliseconds, nothing sleeps.
const T0 = 1_000_000;
const rules: RoomRules = {
  connectWindowMs: 10_000,
  roomIdleMs: 300_000,
  heartbeatTimeoutMs: 30_000,
  emptyRoomMs: 30_000,
};
/** Ana waited 4 s in her lobby; Ben asked as a newcomer and was paired with her at once. */
const setup: RoomSetup = {
  sessionId: "session-1",
  languages: ["en"],
  relaxed: [],
  shared: [],
  sides: [
    {
      alias: "ana",
      name: "Ana",
      token: "ana-token",
      device: "ana-device",
      user: "ana-user",
      network: "ana-network",
      vouched: false,
      queueKey: "any:😊:en",
      waitedMs: 4_000,
      returnTo: { lobby: "any/en", seatId: "seat-1" },
    },
    {
      alias: "ben",
      name: "Ben",
      token: "ben-token",
      device: "ben-device",
      user: "ben-user",
      network: "ben-network",
      vouched: true,
      queueKey: "any:😊:en",
      waitedMs: 0,
      returnTo: null,
    },
  ],
};
const PASS = { action: "pass" } as const;
const types = (effects: RoomEffect[]) => effects.map((e) => e.type);
const sent = (effects: RoomEffect[], to: string) =>
  effects.flatMap((e) => (e.type === "send" && e.to === to ? [e.frame] : []));

/** Opened at T0; Ben joins at T0 + 1 s, Ana at T0 + 2 s. */
function chatting(): RoomState {
  const benIn = room.hello(room.open(setup, T0), "ben-token", T0 + 1_000, {}).state;
  return room.hello(benIn, "ana-token", T0 + 2_000, { ben: T0 + 1_000 }).state;
}
const bothLive = (at: number): Live => ({ ana: at, ben: at });

describe("a pairing", () => {
  it("is a chat from the moment it is opened, waiting for both to join within the connect window", () => {
    const opened = room.open(setup, T0);
    expect(opened).toMatchObject({
      kind: "chatting",
      openedAt: T0,
      participants: [
        { alias: "ana", joined: false },
        { alias: "ben", joined: false },
      ],
    });
    expect(room.nextAlarm(opened, rules)).toBe(T0 + 10_000);
    expect(room.hello(opened, "nobody", T0 + 500, {}).reply).toEqual({ ok: false, code: "invalid_token" });
    // Either may come first.
    const benIn = room.hello(opened, "ben-token", T0 + 500, {});
    expect(benIn.reply).toEqual({ ok: true, alias: "ben" });
    expect(types(benIn.effects)).toEqual(["retire", "welcome", "send"]);
    // Not saved: who joined, a room that wakes reads from its sockets.
    expect(benIn.persist).toBe(false);
    expect(room.withSockets(opened, new Set(["ben"]))).toMatchObject({
      participants: [{ joined: false }, { joined: true }],
    });
    expect(benIn.effects[1]).toMatchObject({
      frame: {
        type: "welcome",
        v: 3,
        you: { id: "ben", name: "Ben" },
        partner: { id: "ana", name: "Ana", online: false },
      },
    });
  });

  it("becomes final when the second one joins: saved, remembered on both devices and logged, once", () => {
    const benIn = room.hello(room.open(setup, T0), "ben-token", T0 + 500, {}).state;
    const final = room.hello(benIn, "ana-token", T0 + 600, { ben: T0 + 500 });
    const { state, effects } = final;
    expect(state).toMatchObject({ participants: [{ joined: true }, { joined: true }] });
    expect(final.persist).toBeUndefined();
    // (The lobby counted the pairing when it made it.)
    expect(types(effects)).toEqual(["retire", "welcome", "send", "met", "log"]);
    expect(effects[3]).toEqual({ type: "met", devices: ["ana-device", "ben-device"], sessionId: "session-1" });
    expect(effects[4]).toMatchObject({
      event: "match.paired",
      fields: { queue: "any:😊:en", waitedMs: 4_000, relaxed: "" },
    });
    // A reconnect later is not a second pairing.
    expect(types(room.hello(state, "ben-token", T0 + 5_000, { ana: T0 + 4_000, ben: null }).effects)).not.toContain(
      "met",
    );
  });

  it("ends when someone never joins, giving the waiter back its wait before anyone is told", () => {
    const benIn = room.hello(room.open(setup, T0), "ben-token", T0 + 1_000, {}).state;
    expect(room.alarm(benIn, T0 + 9_999, { ben: T0 + 9_000 }, rules).state.kind).toBe("chatting");
    const missing = room.alarm(benIn, T0 + 10_000, { ben: T0 + 9_000 }, rules);
    expect(missing.state).toEqual({ kind: "ended", sessionId: "session-1", reason: "partner_missing" });
    expect(types(missing.effects)).toEqual(["restore", "send", "close_all", "count", "erase"]);
    expect(missing.effects[0]).toEqual({ type: "restore", lobby: "any/en", seatId: "seat-1", sessionId: "session-1" });
    expect(sent(missing.effects, "all")).toEqual([{ type: "closed", reason: "partner_missing" }]);
  });
});

describe("joining and presence", () => {
  it("tells the first when the second joins, and the second that the first is there", () => {
    const benIn = room.hello(room.open(setup, T0), "ben-token", T0 + 1_000, {}).state;
    const { effects } = room.hello(benIn, "ana-token", T0 + 2_000, { ben: T0 + 1_500 });
    expect(sent(effects, "ben")).toEqual([
      { type: "partner_joined", partner: { id: "ana", name: "Ana", online: true } },
    ]);
    expect(effects.find((e) => e.type === "welcome")).toMatchObject({
      frame: { you: { id: "ana" }, partner: { id: "ben", online: true } },
    });
  });

  it("treats a reconnect as back online only if the participant had no socket left", () => {
    const s = chatting();
    expect(sent(room.hello(s, "ana-token", T0 + 5_000, { ana: null, ben: T0 + 4_000 }).effects, "ben")).toEqual([
      { type: "partner_online", partnerId: "ana" },
    ]);
    const takeover = room.hello(s, "ana-token", T0 + 5_000, bothLive(T0 + 4_000));
    expect(sent(takeover.effects, "ben")).toEqual([]);
    expect(takeover.effects[0]).toEqual({ type: "retire", alias: "ana" });
  });

  it("says a participant went offline when its last socket closes, and ends a room left empty", () => {
    const s = chatting();
    const anaGone = room.socketGone(s, "ana", T0 + 10_000, { ben: T0 + 9_000 });
    expect(sent(anaGone.effects, "ben")).toEqual([{ type: "partner_offline", partnerId: "ana" }]);
    const bothGone = room.socketGone(anaGone.state, "ben", T0 + 11_000, {});
    expect(bothGone.state).toMatchObject({ emptySince: T0 + 11_000 });
    expect(room.nextAlarm(bothGone.state, rules)).toBe(T0 + 41_000);
    expect(room.alarm(bothGone.state, T0 + 41_000, {}, rules).state).toMatchObject({ kind: "ended", reason: "idle" });
  });
});

describe("hibernation-friendly deadlines", () => {
  it("schedules nothing but the idle end for a quiet chat whose sockets ping", () => {
    const s = chatting();
    expect(room.nextAlarm(s, rules)).toBe(T0 + 2_000 + 300_000);
    // Pings move nothing: the deadline is the same however often the runtime answered them.
    expect(room.alarm(s, T0 + 60_000, bothLive(T0 + 59_000), rules)).toMatchObject({ state: s, effects: [] });
  });

  it("ends a chat after the idle window without messages", () => {
    const s = chatting();
    expect(room.alarm(s, T0 + 302_000, bothLive(T0 + 301_000), rules).state).toMatchObject({
      kind: "ended",
      reason: "idle",
    });
  });

  it("notices a vanished partner when the other one speaks", () => {
    const s = chatting();
    const said = room.message(
      s,
      "ben",
      { id: "m1", text: "still there?" },
      PASS,
      T0 + 100_000,
      { ana: T0 + 60_000, ben: T0 + 99_000 },
      rules,
    );
    expect(types(said.effects)).toEqual(["store", "drop", "send"]);
    expect(said.effects[1]).toEqual({ type: "drop", alias: "ana", code: CLOSE.stale, reason: "heartbeat timeout" });
    expect(sent(said.effects, "ben")).toEqual([{ type: "partner_offline", partnerId: "ana" }]);
  });

  it("relays without judging liveness when the room did not read it for this message", () => {
    const said = room.message(chatting(), "ben", { id: "m1", text: "still there?" }, PASS, T0 + 100_000, null, rules);
    expect(types(said.effects)).toEqual(["store"]);
  });
});

describe("messages", () => {
  it("stores and relays a message without rewriting the room's state (past each participant's first)", () => {
    const s = room.message(chatting(), "ana", { id: "m0", text: "hello" }, PASS, T0 + 2_000, null, rules).state;
    const said = room.message(
      s,
      "ana",
      { id: "m1", text: "hi", clientId: "c1" },
      PASS,
      T0 + 3_000,
      bothLive(T0 + 3_000),
      rules,
    );
    expect(said.effects).toEqual([
      { type: "store", message: { id: "m1", text: "hi", clientId: "c1", from: "ana", at: T0 + 3_000 } },
    ]);
    expect(said.persist).toBe(false);
    expect(said.state).toMatchObject({ lastActivity: T0 + 3_000 });
    expect(room.nextAlarm(said.state, rules)).toBe(T0 + 303_000);
  });

  it("relays what the filter masked as masked, and tells only the sender of a refusal", () => {
    const s = chatting();
    const masked = room.message(
      s,
      "ana",
      { id: "m1", text: "call 555 0100 200", clientId: "c1" },
      { action: "mask", text: "call •••", categories: ["contact"] },
      T0 + 3_000,
      bothLive(T0 + 3_000),
      rules,
    );
    expect(masked.effects).toEqual([
      {
        type: "store",
        message: { id: "m1", text: "call •••", masked: true, clientId: "c1", from: "ana", at: T0 + 3_000 },
      },
      {
        type: "log",
        event: "chat.filtered",
        fields: { sessionId: "session-1", participant: "ana", action: "mask", categories: "contact" },
      },
      { type: "count", event: { kind: "filtered", categories: ["contact"] } },
    ]);
    const refused = room.message(
      s,
      "ana",
      { id: "m2", text: "…" },
      { action: "refuse", categories: ["link", "contact"] },
      T0 + 4_000,
      bothLive(T0 + 4_000),
      rules,
    );
    expect(refused.reply).toMatchObject({ code: "message_filtered" });
    expect(types(refused.effects)).toEqual(["log", "count"]);
    // A refused message is not activity: the idle deadline stays where the last real one put it.
    expect(refused.state).toMatchObject({ lastActivity: (s as { lastActivity: number }).lastActivity });
  });

  it("tells the sender of a message that came after the end that the chat is over", () => {
    const ended = room.leave(chatting(), "ben", T0 + 5_000).state;
    expect(
      room.message(ended, "ana", { id: "m9", text: "still there?" }, PASS, T0 + 5_100, {}, rules).reply,
    ).toMatchObject({ code: "session_ended" });
  });

  it("keeps what the first one says for the second, and relays typing to the partner only", () => {
    const benIn = room.hello(room.open(setup, T0), "ben-token", T0 + 500, {}).state;
    expect(types(room.message(benIn, "ben", { id: "m1", text: "hi" }, PASS, T0 + 600, null, rules).effects)).toEqual([
      "store",
    ]);
    expect(room.typing(chatting(), "ben", true).effects).toEqual([
      { type: "send", to: "ana", frame: { type: "typing", from: "ben", isTyping: true } },
    ]);
  });
});

describe("ending", () => {
  it("ends for both on leave", () => {
    const left = room.leave(chatting(), "ana", T0 + 5_000);
    expect(left.state).toEqual({ kind: "ended", sessionId: "session-1", reason: "left" });
    expect(sent(left.effects, "ben")).toEqual([{ type: "partner_left", partnerId: "ana" }]);
    expect(types(left.effects)).toEqual(["log", "send", "send", "close_all", "count", "erase"]);
    // A leave is not a no-show: nobody's wait comes back.
    expect(types(left.effects)).not.toContain("restore");
    expect(left.effects.find((e) => e.type === "close_all")).toMatchObject({ code: CLOSE.ended });
  });

  it("ends on a report at once, files it against the partner who spoke, with what a ban is recorded against, and never twice", () => {
    const anaSpoke = room.message(chatting(), "ana", { id: "m1", text: "hi" }, PASS, T0 + 4_000, null, rules).state;
    const reported = room.report(anaSpoke, "ben", "harassment", T0 + 5_000);
    expect(reported.state).toMatchObject({ kind: "ended", reason: "reported" });
    expect(reported.effects).toContainEqual({
      type: "report",
      reported: { device: "ana-device", user: "ana-user", network: "ana-network" },
      by: { device: "ben-device", network: "ben-network", vouched: true },
      reason: "harassment",
      counts: true,
    });
    const again = room.report(reported.state, "ben", "harassment", T0 + 5_001);
    expect(again.reply).toMatchObject({ code: "not_paired" });
    expect(again.effects).toEqual([]);
  });

  it("counts a report only against a partner who joined and spoke (a message stored or refused); it still ends the chat and blocks", () => {
    const counts = (s: RoomState) =>
      (room.report(s, "ben", "spam", T0 + 5_000).effects.find((e) => e.type === "report") as { counts: boolean })
        .counts;
    const says = (s: RoomState, alias: string, verdict: Verdict = PASS) =>
      room.message(s, alias, { id: "m", text: "…" }, verdict, T0 + 4_000, null, rules);
    // Joined, said nothing; or only the reporter spoke.
    expect(counts(chatting())).toBe(false);
    expect(counts(says(chatting(), "ben").state)).toBe(false);
    // Never joined: nothing of hers can be in the room.
    const benOnly = room.hello(room.open(setup, T0), "ben-token", T0 + 100, {}).state;
    expect(counts(benOnly)).toBe(false);
    // Her first message is saved as "spoke" (so a report counts after the history's 20 rows moved on); later ones write nothing more.
    const first = says(chatting(), "ana");
    expect(first.persist).toBeUndefined();
    expect(counts(first.state)).toBe(true);
    expect(says(first.state, "ana").persist).toBe(false);
    // A message the filter refused is not in the history, but she said it.
    const refusal = says(chatting(), "ana", { action: "refuse", categories: ["slur"] });
    expect(refusal.persist).toBeUndefined();
    expect(counts(refusal.state)).toBe(true);
  });

  it("ends when either participant's device is banned, and ignores other devices", () => {
    const s = chatting();
    expect(room.evict(s, "someone-else", T0 + 5_000)).toMatchObject({ state: s, effects: [] });
    const banned = room.evict(s, "ana-device", T0 + 5_000);
    expect(banned.state).toMatchObject({ kind: "ended", reason: "banned" });
    expect(sent(banned.effects, "all")).toEqual([{ type: "closed", reason: "banned" }]);
  });

  it("refuses every hello once ended, and an alarm after the end only erases", () => {
    const ended = room.leave(chatting(), "ana", T0 + 5_000).state;
    expect(room.hello(ended, "ana-token", T0 + 6_000, {}).reply).toEqual({ ok: false, code: "session_ended" });
    expect(room.alarm(ended, T0 + 6_000, {}, rules).effects).toEqual([{ type: "erase" }]);
    expect(room.nextAlarm(ended, rules)).toBeNull();
  });
});
