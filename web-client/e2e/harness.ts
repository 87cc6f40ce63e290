/**
 * The e2e harness: the real service under `wrangler dev` (started the way the smoke test
 * starts it) on a free port with throwaway storage, and Debian's Chromium driven by
 * playwright-core (no browser download needed).
 */
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startService as startLocalService, type LocalServer } from "../../load-tests/local-server";

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

export type Service = LocalServer;

export function startService(): Promise<Service> {
  // Widen to any feeling after 2 s instead of 15 s, so a widened pairing takes seconds, not a quarter minute.
  return startLocalService({ vars: { WIDEN_EMOTION_SECONDS: "2" } });
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
