/**
 * The tarball an app installs, installed as an app would: `npm pack`, then `npm install <tarball>`
 * in an empty folder outside the repository. Plain Node 22 runs the package's example, which
 * pairs two clients against the worker and exchanges a message; tsc checks a consumer with no
 * DOM, no Node types, no zod and no skipLibCheck, under Node's own module resolution.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { baseUrl } from "./node.ts";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const CONSUMER = `
import { ChatClient, Consent, type ChatMessage, type SessionStore, type Status } from "@strangers/client";
import { chatStore, type ChatView } from "@strangers/client/react";

// An AsyncStorage-shaped store: every method returns a promise.
const items = new Map<string, string>();
const store: SessionStore = {
  getItem: async (key) => items.get(key) ?? null,
  setItem: async (key, value) => void items.set(key, value),
  removeItem: async (key) => void items.delete(key),
};
const client = new ChatClient({ baseUrl: "https://chat.example.com", identity: { userId: "u", deviceId: "d" }, store });
const consent = new Consent({ baseUrl: "https://chat.example.com", store });
client.on("message", ({ message }) => {
  const m: ChatMessage = message;
  void m.text;
});
const status: Status = client.status;
const view: ChatView = chatStore(client).getSnapshot();
// @ts-expect-error: not a report reason
client.report("because");
void [status, view, consent.policy(), client.match({ emotion: "😊", language: "en" })];
`;

let app: string;

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), "strangers-pack-"));
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: packageDir })
    .toString()
    .trim()
    .split("\n")
    .at(-1)!;
  app = join(out, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", join(out, tarball)], { cwd: app, stdio: "ignore" });
}, 120_000);

describe("the packed client, installed in an empty folder", () => {
  it("brings nothing but itself (no zod, no protocol package)", () => {
    expect(readdirSync(join(app, "node_modules")).filter((name) => !name.startsWith("."))).toEqual(["@strangers"]);
    expect(readdirSync(join(app, "node_modules/@strangers"))).toEqual(["client"]);
  });

  it("pairs two clients against the worker from plain Node, and one hears the other", () => {
    const example = join(app, "node_modules/@strangers/client/examples/two-clients.mjs");
    const run = spawnSync(process.execPath, [example, baseUrl()], { cwd: app, encoding: "utf8", timeout: 30_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/B received "hello from A/);
    expect(run.status).toBe(0);
  });

  it("type-checks an app's use of both entries with Node's module resolution and no DOM", () => {
    writeFileSync(join(app, "consumer.ts"), CONSUMER);
    const options = { strict: true, noEmit: true, skipLibCheck: false, target: "es2022", lib: ["es2022"], types: [] };
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { ...options, module: "nodenext", moduleResolution: "nodenext" },
        files: ["consumer.ts"],
      }),
    );
    const check = spawnSync(process.execPath, [tsc, "-p", app], { encoding: "utf8" });
    expect(check.stdout).toBe("");
    expect(check.status).toBe(0);
  });
});
