/**
 * The page: four screens (consent on the first visit, choose, waiting, chat) driven by
 * ChatClient events, in the page language i18n.ts picked. User text only ever reaches the DOM
 * through `textContent`, never as HTML.
 */

import {
  type Around,
  ChatClient,
  type ChatMessage,
  type ClientError,
  Consent,
  type Criteria,
  DEFAULT_POLICY,
  type EndReason,
  MAX_MESSAGE_LENGTH,
  type Policy,
  REPORT_REASONS,
  type Relaxed,
  type ReportReason,
  type Status,
  spellInterest,
  type Widening,
} from "@strangers/client";
import { LOCALES, type Locale, list, locale, number, preferredLocale, setLocale, t } from "./i18n";
import type { Messages } from "./locales/en";
import { TitleBadge } from "./title-badge";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const screens = { consent: $("consent"), choose: $("choose"), waiting: $("waiting"), chat: $("chat") };
const chooseForm = $<HTMLFormElement>("choose-form");
const consentForm = $<HTMLFormElement>("consent-form");
const interestsInput = chooseForm.elements.namedItem("interests") as HTMLInputElement;
const pageLanguage = $<HTMLSelectElement>("page-language");
const languageSelect = chooseForm.elements.namedItem("language") as HTMLSelectElement;
const nameInput = chooseForm.elements.namedItem("name") as HTMLInputElement;
const anyLanguageInput = chooseForm.elements.namedItem("anyLanguage") as HTMLInputElement;
const wideningLine = $("widening");
const nextLabel = $("next-label");
const stopButton = $("stop");
const chatTitle = $("chat-title");
const relaxedNote = $("relaxed-note");
const reportButton = $<HTMLButtonElement>("report");
const reportDialog = $<HTMLDialogElement>("report-dialog");
const reportForm = reportDialog.querySelector("form")!;
const log = $<HTMLDivElement>("log");
const input = $<HTMLInputElement>("text");
input.maxLength = MAX_MESSAGE_LENGTH;
const composer = $<HTMLFormElement>("composer");
const statusLine = $("status-line");
const typingLine = $("typing");
const alertBox = $("alert");
const confirmNext = $<HTMLDialogElement>("confirm-next");

/** The device id outlives the tab (the server keeps "don't pair us again" per device); the user id is per tab. */
function storedId(storage: Storage, key: string): string {
  let id = storage.getItem(key);
  if (!id) storage.setItem(key, (id = crypto.randomUUID()));
  return id;
}

const client = new ChatClient({
  baseUrl: location.origin,
  identity: {
    deviceId: storedId(localStorage, "strangers.deviceId"),
    userId: storedId(sessionStorage, "strangers.userId"),
  },
});
const consent = new Consent({ baseUrl: location.origin });
let policy: Policy = DEFAULT_POLICY;
const badge = new TitleBadge(document, (n) => t.newMessages(n));

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
/** Own messages shown before the server's echo, by client id, so the echo updates them in place. */
const pending = new Map<string, HTMLElement>();
let ended = false;
let wideningTimers: ReturnType<typeof setTimeout>[] = [];

// ---------------------------------------------------------------- rendering

function show(screen: keyof typeof screens): void {
  for (const [name, el] of Object.entries(screens)) el.hidden = name !== screen;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function append(item: HTMLElement): void {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function bubble(text: string, mine: boolean, at: string): HTMLElement {
  const item = el("div", `msg ${mine ? "mine" : "theirs"}`);
  // `dir="auto"`: an Arabic message reads right to left on an English page, and the reverse.
  const body = el("p", "text", text);
  body.dir = "auto";
  item.append(el("span", "sr-only", `${mine ? t.you : t.stranger} `), body, el("time", "meta", at));
  return item;
}

function showMessage(message: ChatMessage, mine: boolean): void {
  const at = time.format(message.at);
  const mineEarly = mine && message.clientId ? pending.get(message.clientId) : undefined;
  const item = mineEarly ?? bubble(message.text, mine, at);
  if (mineEarly) {
    pending.delete(message.clientId!);
    mineEarly.classList.remove("pending", "failed");
    // The filter may have hidden parts: the sender sees what the stranger saw.
    mineEarly.querySelector(".text")!.textContent = message.text;
    mineEarly.querySelector("time")!.textContent = at;
  } else append(item);
  if (message.masked) {
    item.classList.add("masked");
    item.querySelector("time")!.textContent = `${at} · ${t.maskedNote}`;
  }
  if (!mine) badge.unseen();
}

function systemLine(text: string): void {
  append(el("div", "system", text));
}

/**
 * Texts the page sets as things happen are kept as message keys and facts, not strings, so
 * that switching the page language mid-chat rewords them all (`relabel`).
 */
type StatusKey = "connecting" | "connected" | "reconnecting" | "retrying" | "partnerDropped" | "chatEnded";
let statusKey: StatusKey | null = null;
let lastWidening: Widening | null = null;
let lastAround: Around | null = null;
let lastPairing: { relaxed: Relaxed[]; shared: string[] } = { relaxed: [], shared: [] };
let partnerTyping = false;

function setStatusLine(key: StatusKey): void {
  statusKey = key;
  statusLine.textContent = t[key];
  statusLine.dataset.tone = key === "connected" ? "ok" : "warn";
}

/** The chat's heading, its notes and its buttons: live, or ended. */
function showChatHead(): void {
  chatTitle.textContent = ended ? t.chatEndedTitle : t.chatTitle;
  nextLabel.textContent = ended ? t.newStranger : t.next;
  stopButton.textContent = ended ? t.back : t.stop;
  const { relaxed, shared } = lastPairing;
  relaxedNote.textContent = relaxed.map((r) => t[RELAXED_TEXT[r]]).join(" ");
  relaxedNote.hidden = relaxed.length === 0;
  const sharedNote = $("shared-note");
  sharedNote.textContent = shared.length ? t.sharedInterests(list(shared)) : "";
  sharedNote.hidden = shared.length === 0;
}

function showTyping(isTyping: boolean): void {
  partnerTyping = isTyping;
  typingLine.textContent = isTyping ? t.typing : "";
}

function setChatEnabled(enabled: boolean): void {
  input.disabled = !enabled;
  composer.querySelector("button")!.disabled = !enabled;
}

function showError(error: ClientError): void {
  // The page words the errors it expects in its own language; anything else, the server's text.
  let text = error.message;
  if (error.code === "unreachable") text = t.errorUnreachable;
  if (error.code === "rate_limited")
    text = error.retryAfterSeconds
      ? `${t.errorRateLimited} ${t.tryAgainIn(error.retryAfterSeconds)}`
      : t.errorRateLimited;
  if (error.code === "banned" && error.until) text = t.bannedUntil(new Date(error.until).toLocaleString(locale));
  $("alert-text").textContent = text;
  alertBox.hidden = false;
}

function clearError(): void {
  alertBox.hidden = true;
}

const ENDED_TEXT: Record<Exclude<EndReason, "you_left">, keyof Messages> = {
  left: "endedLeft",
  reported: "endedReported",
  you_reported: "endedYouReported",
  idle: "endedIdle",
  expired: "endedExpired",
  partner_missing: "endedPartnerMissing",
  superseded: "endedSuperseded",
  banned: "endedBanned",
  replaced: "endedReplaced",
  unavailable: "endedUnavailable",
};

// ---------------------------------------------------------------- client events

client.on("status", ({ status }) => render(status));

function render(status: Status): void {
  reportButton.disabled = status !== "chatting";
  if (status !== "searching") {
    showWidening(null);
    stopAround();
  }
  switch (status) {
    case "idle":
      return show("choose");
    case "searching":
      clearError();
      showSearch();
      watchAround();
      return show("waiting");
    case "connecting":
      $("partner-name").textContent = client.partner?.name ?? "";
      setStatusLine("connecting");
      setChatEnabled(false);
      return show("chat");
    case "chatting":
      clearError();
      setStatusLine("connected");
      setChatEnabled(true);
      return show("chat");
    case "reconnecting":
      setStatusLine("reconnecting");
      return setChatEnabled(true);
    case "ended":
      setChatEnabled(false);
      return;
  }
}

/**
 * Says what the search covers now and what it will cover next. The text changes at most
 * twice, when the search widens: a countdown would only make the wait feel longer.
 */
function showWidening(widening: Widening | null): void {
  wideningTimers.forEach(clearTimeout);
  wideningTimers = [];
  lastWidening = widening;
  if (!widening) return void (wideningLine.textContent = "");
  const { emotionAt, languageAt } = widening;
  const update = () => {
    const now = Date.now();
    const feelings = now >= emotionAt;
    if (languageAt === null) wideningLine.textContent = feelings ? t.wideningNow : t.wideningSoon;
    else if (now >= languageAt) wideningLine.textContent = t.wideningNowBoth;
    else wideningLine.textContent = feelings ? t.wideningNowSoonLanguages : t.wideningSoonBoth;
  };
  update();
  for (const at of [emotionAt, languageAt]) {
    if (at !== null && at > Date.now()) wideningTimers.push(setTimeout(update, at - Date.now()));
  }
}

const RELAXED_TEXT: Record<Relaxed, keyof Messages> = { emotion: "relaxedEmotion", language: "relaxedLanguage" };

/** What the search covers, and what it prefers: someone sharing an interest first, anyone else otherwise. */
function showSearch(): void {
  const chosen = criteria();
  $("waiting-criteria").replaceChildren(...describe(chosen));
  const interests = chosen.interests ?? [];
  const line = $("waiting-interests");
  line.textContent = interests.length ? t.lookingForInterests(list(interests)) : "";
  line.hidden = interests.length === 0;
}

/** Who's around, refreshed while the search lasts; the server's figures are coarse already. */
let aroundTimer: ReturnType<typeof setTimeout> | undefined;
/** Bumped whenever a watch starts or stops, so an answer still on its way for an old one is dropped. */
let aroundWatch = 0;
const AROUND_REFRESH_MS = 15_000;

function watchAround(): void {
  stopAround();
  const watch = aroundWatch;
  const refresh = async () => {
    const figures = await client.around();
    if (watch !== aroundWatch) return;
    showAround(figures);
    aroundTimer = setTimeout(refresh, AROUND_REFRESH_MS);
  };
  void refresh();
}

/** Figures belong to the search they were read for: the next one starts blank. */
function stopAround(): void {
  aroundWatch++;
  clearTimeout(aroundTimer);
  showAround(null);
}

function showAround(figures: Around | null): void {
  lastAround = figures;
  const box = $("around");
  box.hidden = figures === null;
  if (!figures) return;
  $("online").textContent = figures.online === "few" ? t.onlineFew : t.online(number(figures.online));
  const within = figures.pairedWithinSeconds;
  $("paired-within").textContent =
    within === null ? "" : within < 60 ? t.pairedWithin(within) : t.pairedWithinMinutes(Math.round(within / 60));
}

client.on("waiting", ({ widening }) => showWidening(widening));

client.on("paired", ({ partner, relaxed, shared }) => {
  log.replaceChildren();
  pending.clear();
  ended = false;
  lastPairing = { relaxed, shared };
  $("partner-name").textContent = partner.name;
  $("partner-initial").textContent = [...partner.name][0]?.toUpperCase() ?? "?";
  showTyping(false);
  showChatHead();
  show("chat");
  input.focus();
});

client.on("message", ({ message, mine }) => showMessage(message, mine));
client.on("unsent", ({ clientId, text, code }) => {
  const item = pending.get(clientId);
  if (!item) return;
  item.classList.replace("pending", "failed");
  item.querySelector("time")!.textContent =
    code === "message_filtered" ? t.notSentFiltered : code === "rate_limited" ? t.notSentTooFast : t.notSent;
  // Sent too fast, retrying is one Enter away (a draft the user already started wins); anything else would only be refused again.
  if (code === "rate_limited" && !input.value) input.value = text;
  if (code !== "rate_limited") pending.delete(clientId);
});
client.on("typing", ({ isTyping }) => showTyping(isTyping));
client.on("partner", ({ online }) => {
  if (client.status !== "chatting") return;
  setStatusLine(online ? "connected" : "partnerDropped");
});

client.on("ended", ({ reason }) => {
  if (reason === "you_left") return;
  ended = true;
  if (reportDialog.open) reportDialog.close();
  systemLine(t[ENDED_TEXT[reason] ?? "chatEnded"] as string);
  showChatHead();
  setStatusLine("chatEnded");
  show("chat");
});

client.on("error", (error) => {
  // While reconnecting, an unreachable server is expected: say so in the status line, not an alert.
  if (client.status === "reconnecting" && error.code === "unreachable") return setStatusLine("retrying");
  if ((error.code === "bot_check_required" || error.code === "bot_check_failed") && error.siteKey)
    return void humanCheck(error.siteKey);
  showError(error);
});

type Turnstile = {
  render(container: HTMLElement, options: { sitekey: string; callback(token: string): void }): string;
  remove(id: string): void;
};

/**
 * The operator turned on the human check (Cloudflare Turnstile): show its widget, then search
 * with its token. Its script is only loaded when the server asks, so the page loads nothing
 * from elsewhere otherwise.
 */
async function humanCheck(siteKey: string): Promise<void> {
  const box = $("human-check");
  box.hidden = false;
  const turnstile = await loadTurnstile();
  box.replaceChildren();
  const widget = turnstile.render(box, {
    sitekey: siteKey,
    callback: (token) => {
      turnstile.remove(widget);
      box.hidden = true;
      void client.match(criteria(), { turnstileToken: token });
    },
  });
}

function loadTurnstile(): Promise<Turnstile> {
  const g = globalThis as { turnstile?: Turnstile };
  if (g.turnstile) return Promise.resolve(g.turnstile);
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), {
      src: "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit",
      async: true,
    });
    script.onload = () => resolve(g.turnstile!);
    script.onerror = () => reject(new Error("the human check could not load"));
    document.head.append(script);
  });
}

// ---------------------------------------------------------------- user actions

function criteria(): Criteria {
  return {
    emotion: chooseForm.querySelector<HTMLInputElement>("input[name=emotion]:checked")?.value ?? "any",
    language: languageSelect.value,
    anyLanguage: anyLanguageInput.checked,
    userName: nameInput.value.trim() || undefined,
    interests: interestsOf(interestsInput.value),
  };
}

/**
 * "Chess, #Music ,, anime" → ["chess", "music", "anime"]: split as people type lists, spelled as
 * the server spells them, other signs read as spaces; a fourth or an overlong one the server
 * refuses, with a message.
 */
function interestsOf(raw: string): string[] {
  // NFKC first: a full-width comma (Chinese and Japanese keyboards) becomes a comma.
  const tags = raw
    .normalize("NFKC")
    .split(/[,،、;]/)
    .map((tag) =>
      spellInterest(tag)
        .replace(/[^\p{L}\p{M}\p{N} -]+/gu, " ")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter(Boolean);
  return [...new Set(tags)];
}

function describe(chosen: Criteria): (Node | string)[] {
  const language = languageSelect.selectedOptions[0]?.textContent ?? chosen.language;
  const emotion = chosen.emotion === "any" ? t.feelingAnything : el("span", "emoji", chosen.emotion ?? "");
  return [`${t.feeling} `, emotion, ` · ${language}`];
}

chooseForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // Start is only reachable past the consent screen; this guards a page left open while the guidelines changed.
  void consent.needed(policy).then((needed) => {
    if (needed) return showConsent();
    const chosen = criteria();
    localStorage.setItem("strangers.criteria", JSON.stringify(chosen));
    clearError();
    void client.match(chosen);
  });
});

function restoreChoices(): void {
  try {
    const saved = JSON.parse(localStorage.getItem("strangers.criteria") ?? "null") as Criteria | null;
    if (!saved) return;
    const emotion = chooseForm.querySelector<HTMLInputElement>(
      `input[name=emotion][value="${CSS.escape(saved.emotion ?? "")}"]`,
    );
    if (emotion) emotion.checked = true;
    if (saved.language) languageSelect.value = saved.language;
    anyLanguageInput.checked = saved.anyLanguage === true;
    nameInput.value = saved.userName ?? "";
    interestsInput.value = (saved.interests ?? []).join(", ");
  } catch {
    localStorage.removeItem("strangers.criteria");
  }
}

$("cancel").addEventListener("click", () => client.cancel());

function goNext(): void {
  log.replaceChildren();
  showTyping(false);
  void client.next();
}

$("next").addEventListener("click", goNext);
stopButton.addEventListener("click", () => {
  client.leave();
  client.close();
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  const clientId = client.send(text);
  if (!clientId) return;
  // A resent refused message takes the place of its "not sent" copy instead of repeating it.
  for (const [id, failed] of pending) {
    if (failed.classList.contains("failed") && failed.querySelector(".text")!.textContent === text) {
      pending.delete(id);
      failed.remove();
    }
  }
  const item = bubble(text, true, t.sending);
  item.classList.add("pending");
  pending.set(clientId, item);
  append(item);
  input.value = "";
});
input.addEventListener("input", () => client.typing());

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || screens.chat.hidden || confirmNext.open || reportDialog.open) return;
  event.preventDefault();
  if (ended) return goNext();
  confirmNext.returnValue = "";
  confirmNext.showModal();
});
confirmNext.addEventListener("close", () => {
  if (confirmNext.returnValue === "next") goNext();
  else input.focus();
});

const REASON_LABELS: Record<ReportReason, keyof Messages> = {
  spam: "reasonSpam",
  harassment: "reasonHarassment",
  sexual: "reasonSexual",
  hate: "reasonHate",
  underage: "reasonUnderage",
  other: "reasonOther",
};

$("report-reasons").append(
  ...REPORT_REASONS.map((reason) => {
    const label = el("label", "reason");
    const radio = Object.assign(document.createElement("input"), {
      type: "radio",
      name: "reason",
      value: reason,
      required: true,
    });
    label.append(radio, el("span", "", ""));
    label.lastElementChild!.setAttribute("data-i18n", REASON_LABELS[reason]);
    return label;
  }),
);

reportButton.addEventListener("click", () => {
  reportForm.reset();
  reportDialog.returnValue = "";
  reportDialog.showModal();
});
reportDialog.addEventListener("close", () => {
  const reason = new FormData(reportForm).get("reason") as ReportReason | null;
  // The chat ends when the server confirms, with the `ended` event's text.
  if (reportDialog.returnValue === "report" && reason) client.report(reason);
});

$("alert-close").addEventListener("click", clearError);
// Skip the backoff wait the moment the network is back.
window.addEventListener("online", () => client.reconnectNow());

// ---------------------------------------------------------------- consent and page language

function showConsent(): void {
  $("consent-age").textContent = t.consentAge(policy.minimumAge);
  $("consent-rules").replaceChildren(...t.consentRules.map((rule) => el("li", "", rule)));
  $<HTMLAnchorElement>("link-guidelines").href = policy.guidelines;
  $<HTMLAnchorElement>("link-terms").href = policy.terms;
  $<HTMLAnchorElement>("link-privacy").href = policy.privacy;
  show("consent");
}

consentForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void consent.accept(policy).then(() => {
    show("choose");
    chooseForm.querySelector<HTMLInputElement>("input[name=emotion]:checked")?.focus();
  });
});

/** Static text follows through `data-i18n`; what events set is worded again from the facts kept. (Lines already in the log stay as they were said.) */
function applyPageLanguage(next: Locale, remember: boolean): void {
  setLocale(next, { remember });
  pageLanguage.value = next;
  if (!screens.consent.hidden) showConsent();
  if (client.status === "searching") {
    showSearch();
    showWidening(lastWidening);
    showAround(lastAround);
  }
  if (statusKey) setStatusLine(statusKey);
  showChatHead();
  showTyping(partnerTyping);
}

pageLanguage.append(
  ...Object.entries(LOCALES).map(([code, messages]) =>
    Object.assign(document.createElement("option"), { value: code, textContent: messages.languageName, lang: code }),
  ),
);
pageLanguage.addEventListener("change", () => applyPageLanguage(pageLanguage.value as Locale, true));

applyPageLanguage(preferredLocale(), false);
restoreChoices();
// A first visit chats in the page's language, when the picker offers it.
if (!localStorage.getItem("strangers.criteria") && [...languageSelect.options].some((o) => o.value === locale))
  languageSelect.value = locale;
/** The first screen waits a little for the operator's policy, then shows the default and updates it when the policy comes. */
const POLICY_WAIT_MS = 3000;
void (async () => {
  const asked = consent.policy();
  const [first, resumed] = await Promise.all([
    Promise.race([asked, new Promise<Policy>((r) => setTimeout(() => r(DEFAULT_POLICY), POLICY_WAIT_MS))]),
    client.resume(),
  ]);
  policy = first;
  void asked.then((answer) => {
    policy = answer;
    if (!screens.consent.hidden) showConsent();
  });
  if (resumed) return;
  if (await consent.needed(policy)) showConsent();
  else show("choose");
})();
