import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meterReadings } from "../worker/platform/metering";
import { pairUp, sleep, windows } from "./helpers";

// In this project (vitest.config.ts: heartbeat) a socket is gone after 1 s without a ping, and test sockets ping every 250 ms.
const { heartbeatTimeoutMs } = windows;

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));
const wakeUps = () => {
  const m = meterReadings();
  return { events: m["room.event"] ?? 0, alarms: m["room.alarm"] ?? 0 };
};

describe("a quiet chat", () => {
  it("runs no handler and no alarm for several heartbeat timeouts while both sockets ping, and still notices a vanished partner", async () => {
    const { aliceMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    const alarmAt = () =>
      runInDurableObject(room(aliceMatch.sessionId), (_instance, state) => state.storage.getAlarm());
    const scheduled = await alarmAt();
    const before = wakeUps();
    expect(before.events).toBeGreaterThan(0);

    // Both sockets ping: two dozen pings, all answered by the runtime. A few timeouts prove what a
    // minute would: a ping the room handled itself would wake it at the first one, and a room that
    // checked on its sockets would have to wake at least once per timeout to notice one gone in time.
    await sleep(3 * heartbeatTimeoutMs);
    expect(wakeUps()).toEqual(before);
    expect(await alarmAt()).toBe(scheduled);
    // The one alarm is the idle end, five minutes after the last activity: no periodic check.
    expect(scheduled! - Date.now()).toBeGreaterThan(200_000);

    // Bob's last ping is the runtime's record, which nothing can move back: this waits out a real timeout.
    bob.vanish();
    await sleep(heartbeatTimeoutMs + 500);
    alice.send({ type: "message", text: "still there?" });
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    expect(wakeUps().events).toBe(before.events + 1);
  });
});
