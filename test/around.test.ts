import { exports } from "cloudflare:workers";
import type { Around, Policy } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { roundedCount, usualWaitSeconds } from "../worker/stats/around";
import { WAIT_BUCKETS } from "../worker/stats/stats";
import { match, newUser, pairUp, waitUntil } from "./helpers";

const get = (path: string) => exports.default.fetch(`http://chat.test${path}`);
const around = async (query: string): Promise<Around> => (await get(`/api/around?${query}&fresh`)).json();

describe("who's around: the figures", () => {
  it("round counts, and never show a small one", () => {
    expect([0, 1, 4].map(roundedCount)).toEqual(["few", "few", "few"]);
    expect([5, 7, 8, 12, 19].map(roundedCount)).toEqual([5, 5, 10, 10, 20]);
    expect([23, 47, 99, 123, 1234, 56789].map(roundedCount)).toEqual([20, 50, 100, 120, 1200, 57000]);
  });

  it("say how long three in four waited, as a bucket bound, once there are enough waits", () => {
    const counts = (byBound: Record<number, number>) => WAIT_BUCKETS.map((bound) => byBound[bound] ?? 0);
    expect(usualWaitSeconds(counts({ 5: 2, 30: 1 }))).toBeNull();
    expect(usualWaitSeconds(counts({ 5: 6, 30: 2 }))).toBe(5);
    expect(usualWaitSeconds(counts({ 5: 3, 10: 1, 45: 4 }))).toBe(45);
    expect(usualWaitSeconds(counts({ 5: 1, [Infinity]: 9 }))).toBeNull();
  });
});

describe("GET /api/around", () => {
  it("counts people online and how fast this queue pairs, coarsely", async () => {
    // A queue the page offers (only those keep waits), and that no other test uses.
    const criteria = { emotion: "🥱", language: "ja" };
    const query = "emotion=%F0%9F%A5%B1&language=ja";
    const before = await around(query);
    expect(before.queueKey).toBe("any:🥱:ja");
    for (let i = 0; i < 3; i++) await pairUp(criteria);
    await waitUntil(async () => (await around(query)).pairedWithinSeconds !== null, 5000, "a usual wait");
    const after = await around(query);
    // Paired within seconds: the first bucket. Six people chatting: about five online, never "6".
    expect(after.pairedWithinSeconds).toBe(5);
    expect(typeof after.online === "number" ? after.online % 5 : 0).toBe(0);
  });

  it("answers queues the page does not offer with the common figures only", async () => {
    await match(newUser({ mode: "tmine", emotion: "🥱" }));
    const figures = await around("mode=tmine&emotion=%F0%9F%A5%B1");
    expect(figures).toMatchObject({ queueKey: "other", pairedWithinSeconds: null });
    expect(JSON.stringify(figures)).not.toMatch(/tmine/);
  });

  it("refuses criteria that are not criteria, with the field named", async () => {
    const res = await get("/api/around?language=%3Cscript%3E");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: "invalid_query", message: expect.stringMatching(/^language/) },
    });
  });
});

describe("GET /api/policy", () => {
  it("tells clients the age to confirm and where the guidelines are", async () => {
    const res = await get("/api/policy");
    expect(res.headers.get("Cache-Control")).toMatch(/max-age/);
    expect((await res.json()) as Policy).toEqual({
      minimumAge: 18,
      guidelinesVersion: 1,
      guidelines: "/guidelines",
      terms: "/terms",
      privacy: "/privacy",
    });
  });
});
