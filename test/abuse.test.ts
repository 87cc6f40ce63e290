import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { CLOSE, type ServerFrame } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { deviceStub } from "../worker/platform/stubs";
import { fingerprint } from "../worker/trust/identity";
import {
  connect,
  match,
  matched,
  newUser,
  pairUp,
  postMatch,
  sleep,
  uniqueMode,
  upgrade,
  vouchFor,
  wait,
  waitOnSocket,
  waitUntil,
} from "./helpers";

const texts = (frames: ServerFrame[]) => frames.flatMap((f) => (f.type === "message" ? [f.text] : []));

describe("rate limits", () => {
  it("throttles a flood of match requests from one device, exactly, not other devices", async () => {
    const mode = uniqueMode();
    const flooder = newUser({ mode });
    // The budget is 120 per 10 s in tests, kept by the device's shard: of 150 at once, 120 get through
    // (and the few it refilled while they were answered).
    const statuses = await Promise.all(Array.from({ length: 150 }, () => postMatch(flooder)));
    const limited = statuses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(20);
    expect(limited.length).toBeLessThanOrEqual(30);
    // Each search replaces the one before; one replaced while its answer was still held is told so (409).
    expect(statuses.map((r) => r.status).filter((s) => s !== 200 && s !== 429 && s !== 409)).toEqual([]);
    const replaced = statuses.find((r) => r.status === 409);
    if (replaced) expect(await replaced.json()).toMatchObject({ error: { code: "search_replaced" } });
    // It refills at 12 a second: the next one a second later.
    expect(limited[0].headers.get("Retry-After")).toBe("1");
    expect(await limited[0].json()).toMatchObject({
      success: false,
      error: { code: "rate_limited", retryAfterSeconds: 1 },
    });

    expect((await postMatch(newUser({ mode: uniqueMode() }))).status).toBe(200);
  });

  it("refuses a message flood frame by frame, delivers every accepted message, then cuts the flooder off", async () => {
    const { bobMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    for (let i = 0; i < 50; i++) alice.send({ type: "message", text: `flood ${i}`, clientId: `c${i}` });
    const answers = () => alice.frames.filter((f) => f.type === "message" || f.type === "error").length;
    await waitUntil(() => answers() === 50, 5000, "an answer to every flood frame");

    const accepted = texts(alice.frames);
    const refused = alice.frames.filter((f) => f.type === "error" && f.code === "rate_limited");
    // Each refusal names the message it refused, so a client can mark exactly that one unsent.
    const refusedIds = refused.map((f) => (f as { clientId?: string }).clientId);
    const acceptedIds = alice.frames
      .filter((f) => f.type === "message")
      .map((f) => (f as { clientId?: string }).clientId);
    expect(new Set([...refusedIds, ...acceptedIds]).size).toBe(50);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(accepted.length + refused.length).toBe(50);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
    await waitUntil(() => texts(bob.frames).length === accepted.length);
    expect(texts(bob.frames)).toEqual(accepted);

    for (let i = 0; i < 50; i++) alice.send({ type: "message", text: `more ${i}` });
    expect((await alice.closed).code).toBe(CLOSE.flooding);
    const history = (await (await connect(bobMatch.wsUrl, bobMatch.token)).next("welcome")).history.map((m) => m.text);
    expect(history).toEqual(texts(alice.frames).slice(-20));
  });

  it("cools down a client that reconnects in a loop, replacing its old socket each time", async () => {
    const { aliceMatch, aliceChat } = await pairUp();
    // The limiter counts 10 per device in fixed 10 s windows, so 25 attempts see at most two
    // windows' worth (20) accepted, wherever the window boundary falls.
    const attempts = [];
    for (let i = 0; i < 25; i++) {
      const socket = await connect(aliceMatch.wsUrl, aliceMatch.token);
      await waitUntil(() => socket.frames.length > 0);
      attempts.push(socket);
    }
    expect((await aliceChat.closed).code).toBe(CLOSE.replaced);
    const refused = attempts.filter((s) => s.frames[0].type === "error");
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(attempts.length - refused.length).toBeGreaterThanOrEqual(9);
    for (const socket of refused) {
      expect(socket.frames[0]).toMatchObject({ type: "error", code: "rate_limited" });
      expect((await socket.closed).code).toBe(CLOSE.flooding);
    }
  });
});

/** A stranger in a queue of its own whose device passed the human check: its report weighs in full. */
async function vouchedReporter() {
  const mode = uniqueMode();
  const reporter = newUser({ mode });
  await vouchFor(reporter);
  return { mode, reporter };
}

/**
 * An offender waits on its socket; `reporter`, asking from `from`, is paired with it; both join,
 * the offender says something (unless `speaks` is false), and the reporter reports.
 */
async function reportedBy(
  offender: ReturnType<typeof newUser>,
  reporter: ReturnType<typeof newUser>,
  mode: string,
  { from = "", reports = 1, speaks = true } = {},
) {
  const { socket } = await waitOnSocket({ ...offender, mode });
  const seat = await matched({ ...reporter, mode }, { from });
  const chat = await connect(seat.wsUrl, seat.token);
  await chat.next("welcome");
  const told = await socket.next("matched");
  const offenders = await connect(told.wsUrl, told.token);
  await offenders.next("welcome");
  if (speaks) {
    offenders.send({ type: "message", text: "hello there", clientId: "first" });
    await chat.next("message");
  }
  for (let i = 0; i < reports; i++) chat.send({ type: "report", reason: "harassment" });
  expect(await chat.next("closed")).toMatchObject({ reason: "reported" });
  return chat;
}

/** What the device's shard has stored for it (null: no record). */
async function deviceRecordOf(deviceId: string) {
  const device = await fingerprint(env, deviceId);
  return runInDurableObject(env.DEVICE_BOOK.get(deviceStub(env, device).id), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ record: string }>("SELECT record FROM devices WHERE device = ?", device)
      .toArray()[0];
    return row
      ? (JSON.parse(row.record) as {
          reports: Record<string, { by: string; weight: number }>;
          bannedUntil: number | null;
        })
      : null;
  });
}

/** Asks until the answer is a ban (reports are filed once their chat has closed). */
async function untilBanned(user: ReturnType<typeof newUser>) {
  let refused = await postMatch({ ...user, mode: uniqueMode() });
  for (let i = 0; i < 50 && refused.status !== 403; i++) {
    await sleep(100);
    refused = await postMatch({ ...user, mode: uniqueMode() });
  }
  return refused;
}

describe("reports and bans", () => {
  it("bans on REPORT_THRESHOLD reports from vouched reporters on different networks; the reporter never meets it again, and a new deviceId does not shed the ban", async () => {
    const offender = newUser({ userName: "Troll" });
    for (let i = 0; i < 3; i++) {
      const { mode, reporter } = await vouchedReporter();
      await reportedBy(offender, reporter, mode, { from: `198.51.100.${i + 1}` });
      if (i === 0) {
        // The reporter and the offender share a queue again: they are never paired.
        const again = await wait({ ...offender, mode });
        expect(again.matched).toBe(false);
        expect((await match({ ...reporter, mode })).matched).toBe(false);
        expect((await match(newUser({ mode }))).matched).toBe(true);
      }
    }
    const refused = await untilBanned(offender);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: { code: string; until: string } };
    expect(body.error.code).toBe("banned");
    expect(Date.parse(body.error.until)).toBeGreaterThan(Date.now() + 3600_000);
    // The same userId on a fresh device: still banned.
    const reborn = await postMatch({ ...offender, deviceId: `fresh-${crypto.randomUUID()}`, mode: uniqueMode() });
    expect(reborn.status).toBe(403);
  });

  it("does not count a report against someone who never joined the chat, or joined and said nothing", async () => {
    const victim = newUser({ userName: "Victim" });
    // Three strangers with fresh deviceIds, each on a network of its own, are paired with a
    // victim who only polls and never opens the chat, and report.
    for (let i = 0; i < 3; i++) {
      const { mode, reporter } = await vouchedReporter();
      await wait({ ...victim, mode });
      const seat = await matched({ ...reporter, mode }, { from: `203.0.113.${i + 10}` });
      const chat = await connect(seat.wsUrl, seat.token);
      await chat.next("welcome");
      chat.send({ type: "report", reason: "harassment" });
      expect(await chat.next("closed")).toMatchObject({ reason: "reported" });
    }
    // And three more chats where the victim joins but says nothing.
    for (let i = 0; i < 3; i++) {
      const { mode, reporter } = await vouchedReporter();
      await reportedBy(victim, reporter, mode, { from: `203.0.113.${i + 20}`, speaks: false });
    }
    await sleep(300);
    expect((await deviceRecordOf(victim.deviceId))?.reports ?? {}).toEqual({});
    expect((await postMatch({ ...victim, mode: uniqueMode() })).status).toBe(200);
  });

  it("counts a burst of report frames from one reporter once", async () => {
    const victim = newUser({ userName: "Victim" });
    await reportedBy(victim, newUser(), uniqueMode(), { reports: 10 });
    // The report is filed after the chat has closed.
    await waitUntil(async () => Object.keys((await deviceRecordOf(victim.deviceId))?.reports ?? {}).length > 0);
    await sleep(200);
    const stored = await deviceRecordOf(victim.deviceId);
    expect(Object.keys(stored!.reports)).toHaveLength(1);
    expect(stored!.bannedUntil).toBeNull();
  });

  it("weighs reporters by what is costly to fake: one reporter counts once, one network once, a fresh device a third", async () => {
    const reported = { device: `reported-${crypto.randomUUID()}`, user: "u", network: "n" };
    const book = deviceStub(env, reported.device);
    const notBanned = { bannedUntil: null };
    // One vouched reporter, however often and from whatever network: one report.
    for (let i = 0; i < 5; i++)
      expect(await book.reported(reported, { device: "again", network: "net-a", vouched: true }, "spam")).toEqual(
        notBanned,
      );
    expect(await book.reported(reported, { device: "again", network: "net-b", vouched: true }, "spam")).toEqual(
      notBanned,
    );
    // Vouched reporters on one network: one more.
    for (let i = 0; i < 3; i++)
      expect(
        await book.reported(reported, { device: `vouched-${i}`, network: "one-network", vouched: true }, "spam"),
      ).toEqual(notBanned);
    // Fresh devices, each on its own network: a third each, so the third one makes the third report.
    const fresh = (n: number) => ({ device: `fresh-${n}`, network: `fresh-net-${n}`, vouched: false });
    expect(await book.reported(reported, fresh(0), "spam")).toEqual(notBanned);
    expect(await book.reported(reported, fresh(1), "spam")).toEqual(notBanned);
    expect((await book.reported(reported, fresh(2), "spam")).bannedUntil).toBeGreaterThan(Date.now());
  });

  it("rejects a report with an unknown reason and keeps the chat", async () => {
    const { aliceChat: alice, bobChat: bob } = await pairUp();
    alice.send({ type: "report", reason: "i do not like them" });
    expect((await alice.next("error")).message).toMatch(/reason/);
    alice.send({ type: "message", text: "still chatting" });
    expect(await bob.next("message")).toMatchObject({ text: "still chatting" });
  });
});

describe("no rematch", () => {
  it("after Next, 50 further attempts never pair the same two devices while a third user is available", async () => {
    const { alice, bob, aliceChat } = await pairUp();
    aliceChat.send({ type: "leave" });
    await aliceChat.closed;

    for (let attempt = 0; attempt < 50; attempt++) {
      const mode = uniqueMode();
      // The two search at once, so either may find the other waiting (and each answer is held a moment at the same time).
      const [aliceWait, bobTry] = await Promise.all([wait({ ...alice, mode }), match({ ...bob, mode })]);
      expect(bobTry.matched).toBe(false);
      const carol = await matched(newUser({ mode }));
      expect(["Alice", "Bob"]).toContain(carol.partnerName);
      expect(aliceWait.matched).toBe(false);
    }
  });
});

describe("origins and names", () => {
  it("allows CORS only for the page's origin and ALLOWED_ORIGINS", async () => {
    const preflight = (origin: string) =>
      exports.default.fetch("http://chat.test/api/match", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
    expect((await preflight("https://app.example")).headers.get("Access-Control-Allow-Origin")).toBe(
      "https://app.example",
    );
    expect((await preflight("http://chat.test")).headers.get("Access-Control-Allow-Origin")).toBe("http://chat.test");
    expect((await preflight("https://evil.example")).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses a WebSocket from a foreign origin before the upgrade", async () => {
    const { aliceMatch } = await pairUp();
    const res = await upgrade(aliceMatch.wsUrl, { Upgrade: "websocket", Origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    expect((await upgrade(aliceMatch.wsUrl, { Upgrade: "websocket", Origin: "https://app.example" })).status).toBe(101);
  });
});
