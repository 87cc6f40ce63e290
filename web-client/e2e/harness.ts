/**
 * The e2e harness: the real service under `wrangler dev` (started the way the smoke test
 * starts it) on a free port with throwaway storage, and Debian's Chromium driven by
 * playwright-core (no browser download needed).
 */
import { readFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { type LocalServer, startService as startLocalService } from "../../load-tests/local-server";

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

export function startService(vars: Record<string, string> = {}): Promise<Service> {
  // Widen to any feeling after 2 s instead of 15 s, so a widened pairing takes seconds, not a quarter minute.
  return startLocalService({ vars: { WIDEN_EMOTION_SECONDS: "2", ...vars } });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** The first visit's step, the way a person takes it: both boxes, then Continue. */
export async function acceptConsent(page: Page): Promise<void> {
  await page.getByRole("checkbox", { name: /or older/ }).check();
  await page.getByRole("checkbox", { name: "I accept the community guidelines" }).check();
  await page.getByRole("button", { name: "Continue" }).click();
}

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
export const SCHEMES = ["light", "dark"] as const;

/**
 * axe-core's full rule set (WCAG 2.x A and AA, and its best practices) on the page as it is
 * now, in light and in dark mode: no violations, each named with the elements it found.
 */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  // Evaluated through the browser's debugging protocol, which the page's Content-Security-Policy does not govern (a script tag it would refuse).
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(readFileSync(AXE, "utf8"));
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    const violations = await page.evaluate(async () => {
      const { violations } = await (
        window as unknown as {
          axe: { run(): Promise<{ violations: { id: string; nodes: { target: unknown[] }[] }[] }> };
        }
      ).axe.run();
      return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
    expect(violations, `${screen} in ${colorScheme} mode`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/**
 * Screenshots of one state at desktop and phone size, from the same page, in light mode or
 * in both. With UPDATE_SCREENSHOTS=1 they also replace the committed copies under docs/screenshots.
 */
export async function shoot(
  page: Page,
  state: string,
  schemes: readonly (typeof SCHEMES)[number][] = ["light"],
): Promise<void> {
  for (const colorScheme of schemes)
    await shootIn(page, colorScheme === "light" ? state : `${state}-${colorScheme}`, colorScheme);
  await page.emulateMedia({ colorScheme: "light" });
}

async function shootIn(page: Page, state: string, colorScheme: (typeof SCHEMES)[number]): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.emulateMedia({ colorScheme });
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
