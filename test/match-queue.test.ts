import { env } from "cloudflare:workers";
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { queueNameOf } from "../worker/match-queue";
import { match, newUser, sleep, uniqueMode, wait } from "./helpers";

/** The seat ids a queue object holds (its storage keys). */
const held = (name: string) => runInDurableObject(env.MATCH_QUEUE.get(env.MATCH_QUEUE.idFromName(name)), async (_instance, state) => [...(await state.storage.list()).keys()]);

describe("the queue objects (MATCHMAKER = durable-object)", () => {
  it("give every feeling of a language its own object, and index waits by language and by mode only once they widened", () => {
    const c = { mode: "any", language: "en", emotion: "😊" };
    expect(queueNameOf(c, "exact")).toBe("any:en:😊");
    expect(queueNameOf({ ...c, emotion: "😢" }, "exact")).toBe("any:en:😢");
    expect(queueNameOf(c, "language")).toBe("any:en:*");
    expect(queueNameOf(c, "any")).toBe("any:*");
  });

  it("spread one popular language over several objects, so no single one takes all its traffic", async () => {
    const mode = uniqueMode();
    const feelings = ["😊", "😢", "😡"];
    const users = feelings.map((emotion) => newUser({ mode, language: "en", emotion }));
    const waits = await Promise.all(users.map((u) => wait(u)));
    expect((await listDurableObjectIds(env.MATCH_QUEUE)).length).toBeGreaterThanOrEqual(feelings.length);
    for (const [i, emotion] of feelings.entries()) expect(await held(`${mode}:en:${emotion}`)).toEqual([seatOf(waits[i])]);
    // The language index holds only waits that widened (after WIDEN_EMOTION_SECONDS, 1 s here): none yet.
    expect(await held(`${mode}:en:*`)).toEqual([]);
  });

  it("index a wait by its language once it widened, when its owner shows up", async () => {
    const user = newUser({ mode: uniqueMode(), language: "en", emotion: "😊" });
    const waiting = await wait(user);
    expect(await held(`${user.mode}:en:*`)).toEqual([]);
    await sleep(1200);
    await match({ ...user, ticket: waiting.ticket });
    expect(await held(`${user.mode}:en:*`)).toEqual([seatOf(waiting)]);
  });
});

const seatOf = (w: { ticket: string }) => w.ticket.split(".")[0];
