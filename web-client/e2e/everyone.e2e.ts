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

/** Two services: the default (the filter masks) and one whose filter refuses instead. */
let service: Service;
let refusing: Service;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [service, refusing, browser] = await Promise.all([
    startService(),
    startService({ MODERATION_ACTION: "refuse" }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await Promise.all([service?.stop(), refusing?.stop()]);
});

/** A first visit in a fresh profile, at `path` of `base`. */
async function visitor(viewport = DESKTOP, { base = service, path = "/", consent = true } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  // Every page runs under its Content-Security-Policy (web-client/public/_headers): anything it refuses is a failure.
  page.on(
    "console",
    (message) =>
      message.type() === "error" && /Content Security Policy/i.test(message.text()) && pageErrors.push(message.text()),
  );
  await page.goto(new URL(path, base.baseUrl).toString());
  if (consent) {
    await acceptConsent(page);
    await page.getByRole("button", { name: "Start" }).waitFor();
  }
  return page;
}

async function start(
  page: Page,
  { emotion = "Happy", language = "en", name = "", interests = "" } = {},
): Promise<void> {
  await page.getByRole("radio", { name: emotion }).check();
  await page.getByRole("combobox", { name: /^Language/ }).selectOption(language);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("textbox", { name: /^Interests/ }).fill(interests);
  await page.getByRole("button", { name: "Start" }).click();
}

const visible = (page: Page, text: string | RegExp) => page.getByText(text).first().waitFor({ timeout: 15_000 });
const say = async (page: Page, text: string) => {
  await page.locator("#text").fill(text);
  await page.locator("#text").press("Enter");
};

/** Two people chatting; the first waits, the second finds them. */
async function pair(
  base: Service,
  emotion: string,
  a: Partial<Parameters<typeof start>[1]> = {},
  b: Partial<Parameters<typeof start>[1]> = {},
) {
  const ana = await visitor(DESKTOP, { base });
  const ben = await visitor(PHONE, { base });
  await start(ana, { emotion, name: "Ana", ...a });
  await visible(ana, "Looking for someone…");
  await start(ben, { emotion, name: "Ben", ...b });
  for (const page of [ana, ben]) await visible(page, "You're now chatting with a stranger");
  return { ana, ben };
}

describe("a first visit", () => {
  it("asks for the age and the guidelines before Start, once per device", async () => {
    const page = await visitor(DESKTOP, { consent: false });
    await visible(page, "Before your first chat");
    expect(await page.getByRole("button", { name: "Start" }).isVisible()).toBe(false);
    await expect.poll(() => page.locator("#consent-age").textContent()).toBe("I am 18 or older");
    await expectAccessible(page, "consent");
    await shoot(page, "consent", ["light", "dark"]);

    // Continue alone does nothing: both boxes are required.
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await page.locator("#consent").isVisible()).toBe(true);
    await page.getByRole("checkbox", { name: /or older/ }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await page.locator("#choose").isVisible()).toBe(false);

    // The guidelines are a page of their own.
    const [guidelines] = await Promise.all([
      page.context().waitForEvent("page"),
      page.getByRole("link", { name: "Community guidelines" }).click(),
    ]);
    await guidelines.getByRole("heading", { name: "Community guidelines" }).waitFor();
    await guidelines.close();

    await page.getByRole("checkbox", { name: "I accept the community guidelines" }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("button", { name: "Start" }).waitFor();
    await expectAccessible(page, "choose");
    await shoot(page, "choosing", ["dark"]);

    // Remembered on this device, and nothing of it reached the server.
    await page.reload();
    await page.getByRole("button", { name: "Start" }).waitFor();
    expect(await page.locator("#consent").isVisible()).toBe(false);
    expect(await page.evaluate(() => JSON.parse(localStorage.getItem("strangers.consent")!))).toMatchObject({
      guidelinesVersion: 1,
      minimumAge: 18,
    });
  });
});

describe("waiting", () => {
  it("shows who's around, and says that shared interests come first", async () => {
    const page = await visitor(PHONE);
    await start(page, { emotion: "Calm", language: "en", interests: "#Chess, Music" });
    await visible(page, "Looking for someone…");
    await expect.poll(() => page.locator("#online").textContent(), { timeout: 10_000 }).toMatch(/people online/);
    expect(await page.locator("#waiting-interests").textContent()).toBe(
      "Someone who also likes chess and music comes first; anyone else if nobody does.",
    );
    await expectAccessible(page, "waiting");
    await shoot(page, "waiting-around", ["light", "dark"]);
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  it("prefers a stranger who shares an interest over one who waited longer", async () => {
    // Ana and Ben meet first and skip each other, so both wait again in the same queue and will not be paired again.
    const { ana, ben } = await pair(service, "Excited", {}, { interests: "chess" });
    await ben.keyboard.press("Escape");
    await ben.locator("#confirm-next").waitFor();
    await ben.keyboard.press("Enter");
    await visible(ana, "Stranger has disconnected.");
    await ana.getByRole("button", { name: /New stranger/ }).click();
    for (const page of [ana, ben]) await visible(page, "Looking for someone…");

    const carla = await visitor(DESKTOP);
    await start(carla, { emotion: "Excited", name: "Carla", interests: "Chess, films" });
    await visible(carla, "You're now chatting with a stranger");
    expect(await carla.locator("#partner-name").textContent()).toBe("Ben");
    for (const page of [carla, ben]) await visible(page, "You both like chess.");
    expect(await ana.locator("#waiting").isVisible()).toBe(true);
    await ana.getByRole("button", { name: "Cancel" }).click();
  });
});

describe("moderation", () => {
  it("masks contact details on both sides", async () => {
    const { ana, ben } = await pair(service, "Anxious");
    await say(ana, "call me on 555 123 4567 tonight");
    await visible(ben, "call me on ••• tonight");
    await expect.poll(() => ana.locator("#log .msg.mine .text").last().textContent()).toBe("call me on ••• tonight");
    await visible(ben, /Parts were hidden by the filter/);
    await say(ben, "no thanks, let's just chat here");
    await visible(ana, "no thanks, let's just chat here");
    await expectAccessible(ana, "chat");
    await shoot(ana, "filtered", ["light", "dark"]);
    await ana.getByRole("button", { name: "Stop" }).click();
  });

  it("refuses a message when the operator says so: the sender is told, the stranger sees nothing", async () => {
    const { ana, ben } = await pair(refusing, "Sad");
    await say(ana, "come to www.example.com/private");
    await visible(ana, "Not sent — it breaks the community guidelines");
    await say(ana, "ok, here then");
    await visible(ben, "ok, here then");
    expect(await ben.locator("#log .msg .text").allTextContents()).toEqual(["ok, here then"]);
    // A refused message is not put back in the box: it would only be refused again.
    expect(await ana.locator("#text").inputValue()).toBe("");
    await ben.getByRole("button", { name: "Stop" }).click();
    await visible(ana, "Stranger has disconnected.");
    await expectAccessible(ana, "ended chat");
  });
});

describe("a page for everyone", () => {
  it("is read right to left in Arabic, from the language menu or the link", async () => {
    const page = await visitor(DESKTOP, { path: "/?lang=ar", consent: false });
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([
      "ar",
      "rtl",
    ]);
    await visible(page, "قبل محادثتك الأولى");
    await expectAccessible(page, "consent in Arabic");
    await page.locator("#consent-form input[name=age]").check();
    await page.locator("#consent-form input[name=guidelines]").check();
    await page.locator("#consent-form button[type=submit]").click();
    await page.locator("#choose").waitFor();
    // The first visit chats in the page's language.
    expect(await page.locator("select[name=language]").inputValue()).toBe("ar");
    await expectAccessible(page, "choose in Arabic");
    await shoot(page, "rtl-choosing", ["light", "dark"]);

    await page.getByRole("combobox", { name: "لغة الصفحة" }).selectOption("es");
    expect(await page.evaluate(() => document.documentElement.dir)).toBe("ltr");
    await visible(page, "¿Cómo te sientes?");
    await page.reload();
    await visible(page, "¿Cómo te sientes?");
  });

  it("shows a message that arrives in a background tab in its title", async () => {
    const { ana, ben } = await pair(service, "Bored");
    const title = await ana.title();
    // The page hears what a browser tells it when its tab goes to the background.
    const setVisibility = (page: Page, state: "hidden" | "visible") =>
      page.evaluate((s) => {
        Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, state);
    await setVisibility(ana, "hidden");
    await say(ben, "are you there?");
    await expect.poll(() => ana.title()).toBe(`(1) New message — ${title}`);
    await say(ben, "hello?");
    await expect.poll(() => ana.title()).toBe(`(2) 2 new messages — ${title}`);
    await setVisibility(ana, "visible");
    expect(await ana.title()).toBe(title);
    await ben.getByRole("button", { name: "Stop" }).click();
    await visible(ana, "Stranger has disconnected.");

    // Switching the page language mid-chat rewords what the chat said, not only the static text.
    await ana.getByRole("combobox", { name: "Page language" }).selectOption("es");
    expect(await ana.locator("#chat-title").textContent()).toBe("Este chat ha terminado");
    expect(await ana.locator("#status-line").textContent()).toBe("Chat terminado");
    expect(await ana.locator("#next-label").textContent()).toBe("Otro desconocido");
  });

  it("can be installed as an app", async () => {
    const page = await visitor(DESKTOP);
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as {
      installabilityErrors: { errorId: string }[];
    };
    // Test profiles are incognito, where Chromium installs nothing: that is the browser, not the page.
    expect(installabilityErrors.filter((e) => e.errorId !== "in-incognito")).toEqual([]);
    const manifest = await (
      await page.request.get(new URL("/manifest.webmanifest", service.baseUrl).toString())
    ).json();
    expect(manifest).toMatchObject({ name: "Strangers — anonymous chat", display: "standalone", start_url: "/" });
  });
});
