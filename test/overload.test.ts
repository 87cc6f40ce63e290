import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { newUser, uniqueMode } from "./helpers";

const ask = (body: object) =>
  SELF.fetch("https://chat.example/api/match", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

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

  it("never turns away a poll of an existing wait: only new searches take a slot", async () => {
    const mode = uniqueMode();
    const waiters = Array.from({ length: 6 }, () => newUser({ mode, deviceId: "one-device" }));
    const tickets: string[] = [];
    for (const w of waiters) tickets.push(((await (await ask(w)).json()) as { ticket: string }).ticket);
    const crowd = Array.from({ length: 12 }, () => ask(newUser({ mode: uniqueMode() })));
    const polls = waiters.map((w, i) => ask({ ...w, ticket: tickets[i] }));
    expect((await Promise.all(crowd)).some((r) => r.status === 503)).toBe(true);
    expect((await Promise.all(polls)).map((r) => r.status)).toEqual(waiters.map(() => 200));
  });

  it("admits a made-up ticket (or one whose wait is over) as the new search it is: it takes a slot like any other", async () => {
    const mode = uniqueMode();
    const madeUp = () => ask({ ...newUser({ mode }), ticket: "aaaaaaaaaaaa.bbbbbbbbbbbb" });
    const answers = await Promise.all(Array.from({ length: 12 }, madeUp));
    expect(answers.some((r) => r.status === 503)).toBe(true);
    // Served, it is a search like any other: a wait of its own, with a real ticket.
    const served = (await Promise.all(answers.filter((r) => r.status === 200).map((r) => r.json()))) as {
      ticket?: string;
      matched: boolean;
    }[];
    expect(served.length).toBeGreaterThan(0);
    for (const s of served) if (!s.matched) expect(s.ticket).not.toBe("aaaaaaaaaaaa.bbbbbbbbbbbb");
  });

  it("holds no slot for a body that trickles in, and gives up on it at the deadline", async () => {
    // More than MATCH_CONCURRENCY bodies that send a first byte and then nothing.
    const trickles = Array.from({ length: 4 }, () =>
      SELF.fetch("https://chat.example/api/match", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"userId":')) }),
      }),
    );
    // Meanwhile an honest request is served at once.
    expect((await ask(newUser({ mode: uniqueMode() }))).status).toBe(200);
    for (const r of await Promise.all(trickles)) {
      expect(r.status).toBe(408);
      expect(await r.json()).toMatchObject({ success: false, error: { code: "request_timeout" } });
    }
  }, 15_000);

  it("answers an upload its sender aborted with a 400, and logs no error for it", async () => {
    const errors = vi.spyOn(console, "error");
    const aborted = await SELF.fetch("https://chat.example/api/match", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"userId":'));
          c.error(new Error("the sender went away"));
        },
      }),
    });
    // Whether the runtime hands the worker the abort as a stream error (body_incomplete) or as an
    // early end of the body (invalid_json), it is the sender's error, answered 400, never a 500.
    expect(aborted.status).toBe(400);
    const { error } = (await aborted.json()) as { error: { code: string } };
    expect(["body_incomplete", "invalid_json"]).toContain(error.code);
    expect(errors.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("http.error"))).toEqual([]);
    errors.mockRestore();
  });
});
