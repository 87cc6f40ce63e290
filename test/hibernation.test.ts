import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meterReadings } from "../worker/platform/metering";
import { pairUp, sleep } from "./helpers";

const room = (sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));
const wakeUps = () => {
  const m = meterReadings();
  return { events: m["room.event"] ?? 0, alarms: m["room.alarm"] ?? 0 };
};

describe("a quiet chat", () => {
  it("runs no handler and no alarm for a minute while both sockets ping, and still notices a vanished partner", async () => {
    const { aliceMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    const alarmAt = () =>
      runInDurableObject(room(aliceMatch.sessionId), (_instance, state) => state.storage.getAlarm());
    const scheduled = await alarmAt();
    const before = wakeUps();
    expect(before.events).toBeGreaterThan(0);

    // Both test sockets ping every second: about 120 pings, all answered by the runtime.
    await sleep(60_000);
    expect(wakeUps()).toEqual(before);
    expect(await alarmAt()).toBe(scheduled);
    // The one alarm is the idle end, five minutes after the last activity: no periodic check.
    expect(scheduled! - Date.now()).toBeGreaterThan(200_000);

    bob.vanish();
    await sleep(4_500);
    alice.send({ type: "message", text: "still there?" });
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    expect(wakeUps().events).toBe(before.events + 1);
  }, 90_000);
});
