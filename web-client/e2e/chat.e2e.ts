import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acceptConsent,
  DESKTOP,
  expectAccessible,
  launchBrowser,
  PHONE,
  type Service,
  shoot,
  startService,
} from "./harness";

let service: Service;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Uncaught exceptions in any page fail the run. */
const pageErrors: string[] = [];

beforeAll(async () => {
  service = await startService();
  browser = await launchBrowser();
});

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await service?.stop();
});

/** A separate browser profile: its own localStorage, sessionStorage and device id. */
async function person(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  // The page runs under its Content-Security-Policy (web-client/public/_headers): anything it refuses is a failure.
  page.on(
    "console",
    (message) =>
      message.type() === "error" && /Content Security Policy/i.test(message.text()) && pageErrors.push(message.text()),
  );
  const response = await page.goto(service.baseUrl);
  expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
  await acceptConsent(page);
  await page.getByRole("button", { name: "Start" }).waitFor();
  return page;
}

async function start(page: Page, emotion: string, language: string, name: string): Promise<void> {
  await page.getByRole("radio", { name: emotion }).check();
  await page.getByRole("combobox", { name: /Language/ }).selectOption(language);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Start" }).click();
}

const texts = (page: Page) => page.locator("#log .msg .text").allTextContents();
const visible = (page: Page, text: string) =>
  page.getByText(text, { exact: true }).first().waitFor({ timeout: 15_000 });

describe("the chat page", () => {
  it("pairs two strangers with the same emotion and language, and nobody else", async () => {
    const ana = await person(DESKTOP);
    const ben = await person(PHONE);
    const carla = await person(DESKTOP);
    await shoot(ana, "choosing");

    await start(ana, "Happy", "en", "Ana");
    await visible(ana, "Looking for someone…");
    await expect.poll(() => ana.locator("#widening").textContent()).toMatch(/people feeling differently/);
    await shoot(ana, "waiting");
    await start(carla, "Happy", "es", "Carla");
    await visible(carla, "Looking for someone…");

    await start(ben, "Happy", "en", "Ben");
    await visible(ana, "You're now chatting with a stranger");
    await visible(ben, "You're now chatting with a stranger");
    expect(await ana.locator("#partner-name").textContent()).toBe("Ben");
    expect(await ben.locator("#partner-name").textContent()).toBe("Ana");

    // Typing shows up without moving the conversation or the composer.
    const composerBefore = await ben.locator("#composer").boundingBox();
    await ana.locator("#text").pressSequentially("Hello Ben, how is your day?");
    await visible(ben, "Stranger is typing…");
    expect(await ben.locator("#composer").boundingBox()).toEqual(composerBefore);
    await ana.locator("#text").press("Enter");
    await visible(ben, "Hello Ben, how is your day?");
    await expect.poll(() => ben.locator("#typing").textContent()).toBe("");

    // Markup typed by a stranger stays text.
    const markup = 'Pretty good! <b>bold?</b> <img src=x onerror="document.title=1">';
    await ben.locator("#text").fill(markup);
    await ben.locator("#text").press("Enter");
    await visible(ana, markup);
    expect(await ana.locator("#log img, #log b").count()).toBe(0);
    await ana.locator("#text").fill("Glad to hear that 🙂");
    await ana.locator("#text").press("Enter");
    await visible(ben, "Glad to hear that 🙂");
    const conversation = ["Hello Ben, how is your day?", markup, "Glad to hear that 🙂"];
    expect(await texts(ana)).toEqual(conversation);
    expect(await ana.locator("#log .msg.mine").count()).toBe(2);
    await shoot(ana, "chatting");

    // A refresh resumes the chat: the history once, then new messages as usual.
    await ben.reload();
    await visible(ben, "You're now chatting with a stranger");
    await expect.poll(() => texts(ben), { timeout: 10_000 }).toEqual(conversation);
    expect(await ben.locator("#partner-name").textContent()).toBe("Ana");
    await ana.locator("#text").fill("Welcome back");
    await ana.locator("#text").press("Enter");
    await expect.poll(() => texts(ben), { timeout: 10_000 }).toEqual([...conversation, "Welcome back"]);

    // Carla chose another language: still waiting, never shown this chat.
    expect(await carla.locator("#waiting").isVisible()).toBe(true);
    expect(await carla.locator("#chat").isVisible()).toBe(false);

    // Keyboard only: Esc asks first; Esc again keeps the chat; Esc then Enter skips.
    await ben.keyboard.press("Escape");
    await visible(ben, "Skip to a new stranger? This chat ends for both of you.");
    await expectAccessible(ben, "the Next dialog");
    await ben.keyboard.press("Escape");
    expect(await ben.locator("#confirm-next").isVisible()).toBe(false);
    expect(await ben.locator("#chat").isVisible()).toBe(true);
    await ben.keyboard.press("Escape");
    await ben.locator("#confirm-next").waitFor();
    await ben.keyboard.press("Enter");
    await visible(ben, "Looking for someone…");
    await visible(ana, "Stranger has disconnected.");
    expect(await ana.locator("#text").isDisabled()).toBe(true);
    await shoot(ana, "partner-left");

    // Ben is searching again in English, Carla in Spanish: they must not meet.
    await ben.waitForTimeout(3_000);
    expect(await ben.locator("#waiting").isVisible()).toBe(true);
    expect(await carla.locator("#waiting").isVisible()).toBe(true);
    await ben.getByRole("button", { name: "Cancel" }).click();
    await visible(ben, "How are you feeling?");
  });

  it("notes a widened pairing, and a report ends the chat for both", async () => {
    const eve = await person(DESKTOP);
    const finn = await person(PHONE);
    await eve.getByLabel("If nobody is found, also talk in other languages").check();
    await start(eve, "Sad", "fr", "Eve");
    await expect
      .poll(() => eve.locator("#widening").textContent())
      .toMatch(/people feeling differently.*other languages/);
    await start(finn, "Bored", "fr", "Finn");
    for (const page of [eve, finn]) await visible(page, "They chose a different feeling.");

    // Keyboard only: Esc closes the dialog and nothing else; Space and arrows pick a reason.
    await finn.locator("#report").focus();
    await finn.keyboard.press("Enter");
    const dialog = finn.getByRole("dialog", { name: /Report this stranger/ });
    await dialog.waitFor();
    await finn.keyboard.press("Escape");
    expect(await dialog.isVisible()).toBe(false);
    expect(await finn.locator("#confirm-next").isVisible()).toBe(false);
    expect(await finn.locator("#text").isEnabled()).toBe(true);
    await finn.keyboard.press("Enter");
    await dialog.waitFor();
    await finn.keyboard.press("Space");
    await finn.keyboard.press("ArrowDown");
    expect(await dialog.getByRole("radio", { name: "Harassment or bullying" }).isChecked()).toBe(true);
    await shoot(finn, "report");
    await expectAccessible(finn, "the report dialog");
    await finn.keyboard.press("Tab");
    await finn.keyboard.press("Tab");
    await finn.keyboard.press("Enter");
    await visible(finn, "Reported. You won't be matched with this person again.");
    await visible(eve, "This chat was ended by a report.");
    expect(await finn.locator("#report").isDisabled()).toBe(true);
    await shoot(finn, "reported");
  });

  it("explains refusals and an unreachable server", async () => {
    const page = await person(PHONE);
    await page.route("**/api/match", (route) => route.abort("internetdisconnected"));
    await start(page, "Calm", "en", "Dee");
    await visible(page, "Can't reach the server. Check your connection and try again.");
    expect(await page.locator("#choose").isVisible()).toBe(true);

    await page.unroute("**/api/match");
    await page.route("**/api/match", (route) =>
      route.fulfill({
        status: 429,
        headers: { "Retry-After": "10" },
        contentType: "application/json",
        body: JSON.stringify({
          success: false,
          error: { code: "rate_limited", message: "Too many match requests; slow down.", retryAfterSeconds: 10 },
        }),
      }),
    );
    await page.getByRole("button", { name: "Start" }).click();
    await visible(page, "Too many attempts; slow down. Try again in 10 s.");

    await page.unroute("**/api/match");
    await page.route("**/api/match", (route) =>
      route.fulfill({
        status: 403,
        contentType: "application/json",
        body: JSON.stringify({
          success: false,
          error: { code: "something_new", message: "This device is not allowed to chat." },
        }),
      }),
    );
    await page.getByRole("button", { name: "Start" }).click();
    await visible(page, "This device is not allowed to chat.");
    await page.getByRole("button", { name: "Dismiss" }).click();
    expect(await page.getByRole("alert").isVisible()).toBe(false);
  });
});
