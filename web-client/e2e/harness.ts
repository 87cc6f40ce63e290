/**
 * The e2e harness: the real service under `wrangler dev` on a free port with throwaway
 * storage, and Debian's Chromium driven by playwright-core (no browser download needed).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = new URL("../../", import.meta.url).pathname;
export const ARTIFACTS = join(ROOT, ".e2e-artifacts", "screenshots");
const DOCS = join(ROOT, "docs", "screenshots");

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type Service = { baseUrl: string; stop(): Promise<void> };

export async function startService(): Promise<Service> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const state = await mkdtemp(join(tmpdir(), "strangers-e2e-"));
  const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", state, "--show-interactive-dev-session=false", "--log-level", "warn");
  // Widen to any feeling after 2 s instead of 15 s, so a widened pairing takes seconds, not a quarter minute.
  args.push("--var", "WIDEN_EMOTION_SECONDS:2");
  // Its own process group, so stopping it also stops the workerd processes it started.
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-child.pid!, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await rm(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${baseUrl}/api/health`).then((r) => r.ok, () => false);
    if (ok) return { baseUrl, stop };
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready on ${baseUrl}:\n${output}`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}

/**
 * Screenshots of one state at desktop and phone size, from the same page. With
 * UPDATE_SCREENSHOTS=1 they also replace the committed copies under docs/screenshots.
 */
export async function shoot(page: Page, state: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const original = page.viewportSize() ?? DESKTOP;
  for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
    await page.setViewportSize(viewport);
    // Let the spinner and layout settle so the picture matches what a person sees.
    await page.waitForTimeout(150);
    const file = `${state}-${size}.png`;
    await page.screenshot({ path: join(ARTIFACTS, file), animations: "disabled" });
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      await mkdir(DOCS, { recursive: true });
      await copyFile(join(ARTIFACTS, file), join(DOCS, file));
    }
  }
  await page.setViewportSize(original);
}
