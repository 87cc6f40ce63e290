import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newUser, uniqueMode } from "./helpers";

const ask = (body: object) => SELF.fetch("https://chat.example/api/match", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// This project runs with MATCH_CONCURRENCY = 2.
describe("an isolate serving more match requests than it takes at once", () => {
  it("turns the rest away at once with 503 busy and Retry-After, loses nothing it accepted, and serves again afterwards", async () => {
    const mode = uniqueMode();
    const answers = await Promise.all(Array.from({ length: 12 }, () => ask(newUser({ mode }))));
    const busy = answers.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(answers.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    for (const r of busy) {
      expect(r.headers.get("Retry-After")).toBe("2");
      expect(await r.json()).toMatchObject({ success: false, error: { code: "busy", retryAfterSeconds: 2 } });
    }
    // Whoever was served has a wait or a pairing, as always.
    for (const r of answers.filter((a) => a.status === 200)) expect(await r.json()).toMatchObject({ success: true });
    // The requests turned away and those that failed hold no place: the next ones are served.
    const bad = await ask({ userId: 42 });
    expect(bad.status).toBe(400);
    const again = await ask(newUser({ mode }));
    expect(again.status).toBe(200);
    expect(await ask(newUser({ mode }))).toHaveProperty("status", 200);
  });
});
