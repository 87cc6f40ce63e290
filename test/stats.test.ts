import { listDurableObjectIds } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { StatsSnapshot } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { meterCall, meterReadings } from "../worker/platform/metering";
import { publicView, STATS_SHARDS, type StatsReport, statsReport } from "../worker/stats/stats";
import { match, newUser, pairUp, uniqueMode, waitUntil } from "./helpers";

/** What /api/stats serves, as anyone would read it. */
const publicStats = async (headers: Record<string, string> = {}) =>
  exports.default.fetch("http://chat.test/api/stats", { headers });

describe("the counters behind /api/stats", () => {
  it("count waiting users per queue, active rooms and pairings, and nothing about anyone", async () => {
    const mode = uniqueMode();
    await match(newUser({ mode, emotion: "😊" }));
    await waitUntil(async () => (await statsReport(env)).waiting[`${mode}:😊:any`] === 1);

    const before = await statsReport(env);
    const { aliceChat } = await pairUp();
    await waitUntil(async () => (await statsReport(env)).activeRooms === before.activeRooms + 1);
    const during = await statsReport(env);
    expect(during.pairingsThisMinute + during.pairingsLastMinute).toBeGreaterThan(0);
    expect(JSON.stringify(during)).not.toMatch(/user-|device-|Tester|Alice|Bob/);

    aliceChat.send({ type: "leave" });
    await aliceChat.closed;
    await waitUntil(async () => (await statsReport(env)).activeRooms === before.activeRooms);
  });

  it("are spread over several objects, so no single one takes every event", async () => {
    for (let i = 0; i < 8; i++) await pairUp();
    await waitUntil(async () => (await listDurableObjectIds(env.STATS)).length >= Math.min(4, STATS_SHARDS));
  });
});

describe("the isolate's operation counts", () => {
  it("keep at most 1,000 objects of a kind one by one, however many names clients choose; the rest share one count", () => {
    for (let i = 0; i < 1_500; i++) meterCall("test-kind", `chosen-name-${i}`);
    // 500 calls to names past the first 1,000 landed on one shared count.
    expect(meterReadings()["call.test-kind.busiest"]).toBe(500);
    expect(meterReadings()["call.test-kind"]).toBe(1_500);
  });
});

describe("GET /api/stats, as the public sees it", () => {
  it("names only the queues the page offers, sums the rest as other, and shows small counts as <5", () => {
    const report = {
      waiting: { "any:😊:en": 7, "any:😊:es": 1, "any:<script>:en": 9, "any:😊:zz": 2, "t1234:any:any": 1 },
      waitingTotal: 20,
      activeRooms: 3,
      pairingsThisMinute: 1,
      pairingsLastMinute: 0,
      pairingsPerMinute: [],
      since: new Date(0).toISOString(),
      filtered: { link: 2 },
      operations: {},
      recentWaits: { "any:😊:en": [3, 1] },
    } satisfies StatsReport;
    expect(publicView(report)).toMatchObject({
      waiting: { "any:😊:en": 7, "any:😊:es": "<5", other: 12 },
      waitingTotal: 20,
      activeRooms: "<5",
    });
    expect(JSON.stringify(publicView(report))).not.toMatch(/script|zz|t1234/);
    expect(publicView(report)).toMatchObject({ filtered: { link: 2 } });
    expect(publicView(report)).not.toHaveProperty("recentWaits");
  });

  it("is served from a cache for a few seconds, and limited per address", async () => {
    const first = (await (await publicStats()).json()) as StatsSnapshot;
    await match(newUser({ emotion: "😊", language: "en" }));
    // Within the cache window the answer does not change, however many ask.
    expect(await (await publicStats()).json()).toEqual(first);

    const address = { "CF-Connecting-IP": "198.51.100.23" };
    const statuses: number[] = [];
    // 20 per 10 s in fixed windows: 45 requests cross at most one window boundary.
    for (let i = 0; i < 45; i++) statuses.push((await publicStats(address)).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect((await publicStats({ "CF-Connecting-IP": "198.51.100.24" })).status).toBe(200);
  });
});
