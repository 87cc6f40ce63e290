/**
 * The page: three screens (choose, waiting, chat) driven by ChatClient events. User text
 * only ever reaches the DOM through `textContent`, never as HTML.
 */
import {
  ChatClient,
  MAX_MESSAGE_LENGTH,
  REPORT_REASONS,
  type ClientError,
  type Criteria,
  type EndReason,
  type Relaxed,
  type ReportReason,
  type Status,
  type Widening,
} from "./client";
import type { ChatMessage } from "../../worker/protocol";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const screens = { choose: $("choose"), waiting: $("waiting"), chat: $("chat") };
const chooseForm = $<HTMLFormElement>("choose-form");
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
const log = $<HTMLOListElement>("log");
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
  identity: { deviceId: storedId(localStorage, "strangers.deviceId"), userId: storedId(sessionStorage, "strangers.userId") },
});

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
/** Own messages shown before the server's echo, by client id, so the echo updates them in place. */
const pending = new Map<string, HTMLLIElement>();
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

function append(item: HTMLLIElement): void {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function bubble(text: string, mine: boolean, at: string): HTMLLIElement {
  const item = el("li", `msg ${mine ? "mine" : "theirs"}`);
  item.append(el("span", "sr-only", mine ? "You: " : "Stranger: "), el("p", "text", text), el("time", "meta", at));
  return item;
}

function showMessage(message: ChatMessage, mine: boolean): void {
  const at = time.format(message.at);
  const mineEarly = mine && message.clientId ? pending.get(message.clientId) : undefined;
  if (mineEarly) {
    pending.delete(message.clientId!);
    mineEarly.classList.remove("pending", "failed");
    mineEarly.querySelector("time")!.textContent = at;
    return;
  }
  append(bubble(message.text, mine, at));
}

function systemLine(text: string): void {
  append(el("li", "system", text));
}

function setStatusLine(text: string, tone: "ok" | "warn" = "warn"): void {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

function setChatEnabled(enabled: boolean): void {
  input.disabled = !enabled;
  composer.querySelector("button")!.disabled = !enabled;
}

function showError(error: ClientError): void {
  let text = error.message;
  if (error.code === "rate_limited" && error.retryAfterSeconds) text += ` Try again in ${error.retryAfterSeconds} s.`;
  if (error.code === "banned" && error.until) text += ` (until ${new Date(error.until).toLocaleString()})`;
  $("alert-text").textContent = text;
  alertBox.hidden = false;
}

function clearError(): void {
  alertBox.hidden = true;
}

const ENDED_TEXT: Record<Exclude<EndReason, "you_left">, string> = {
  left: "Stranger has disconnected.",
  reported: "This chat was ended by a report.",
  you_reported: "Reported. You won't be matched with this person again.",
  idle: "The chat ended after a long silence.",
  expired: "The chat expired.",
  partner_missing: "The stranger never showed up.",
  superseded: "This chat was replaced by a newer one.",
  banned: "This chat ended: someone in it was banned after reports from other people.",
  replaced: "This chat continues in another tab.",
  unavailable: "This chat is no longer available.",
};

// ---------------------------------------------------------------- client events

client.on("status", ({ status }) => render(status));

function render(status: Status): void {
  reportButton.disabled = status !== "chatting";
  if (status !== "searching") showWidening(null);
  switch (status) {
    case "idle":
      return show("choose");
    case "searching":
      clearError();
      $("waiting-criteria").replaceChildren(...describe(criteria()));
      return show("waiting");
    case "connecting":
      $("partner-name").textContent = client.partner?.name ?? "";
      setStatusLine("Connecting…");
      setChatEnabled(false);
      return show("chat");
    case "chatting":
      clearError();
      setStatusLine("Connected", "ok");
      setChatEnabled(true);
      return show("chat");
    case "reconnecting":
      setStatusLine("Connection lost — reconnecting…");
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
  if (!widening) return void (wideningLine.textContent = "");
  const { emotionAt, languageAt } = widening;
  const update = () => {
    const now = Date.now();
    const feelings = now >= emotionAt;
    if (languageAt === null) {
      wideningLine.textContent = feelings
        ? "Now also looking for people feeling differently."
        : "Soon we'll also look for people feeling differently.";
    } else if (now >= languageAt) {
      wideningLine.textContent = "Now also looking for people feeling differently, and in other languages.";
    } else {
      wideningLine.textContent = feelings
        ? "Now also looking for people feeling differently. Other languages soon."
        : "Soon we'll also look for people feeling differently, and in other languages.";
    }
  };
  update();
  for (const at of [emotionAt, languageAt]) {
    if (at !== null && at > Date.now()) wideningTimers.push(setTimeout(update, at - Date.now()));
  }
}

const RELAXED_TEXT: Record<Relaxed, string> = {
  emotion: "They chose a different feeling.",
  language: "They may speak another language.",
};

client.on("waiting", ({ widening }) => showWidening(widening));

client.on("paired", ({ partner, relaxed }) => {
  log.replaceChildren();
  pending.clear();
  ended = false;
  relaxedNote.textContent = relaxed.map((r) => RELAXED_TEXT[r]).join(" ");
  relaxedNote.hidden = relaxed.length === 0;
  $("partner-name").textContent = partner.name;
  $("partner-initial").textContent = [...partner.name][0]?.toUpperCase() ?? "?";
  typingLine.textContent = "";
  chatTitle.textContent = "You're now chatting with a stranger";
  nextLabel.textContent = "Next";
  stopButton.textContent = "Stop";
  show("chat");
  input.focus();
});

client.on("message", ({ message, mine }) => showMessage(message, mine));
client.on("unsent", ({ clientId, text }) => {
  const item = pending.get(clientId);
  if (!item) return;
  item.classList.replace("pending", "failed");
  item.querySelector("time")!.textContent = "Not sent — you're sending too fast";
  // Retrying is one Enter away; a draft the user already started wins.
  if (!input.value) input.value = text;
});
client.on("typing", ({ isTyping }) => (typingLine.textContent = isTyping ? "Stranger is typing…" : ""));
client.on("partner", ({ online }) => {
  if (client.status !== "chatting") return;
  if (online) setStatusLine("Connected", "ok");
  else setStatusLine("Stranger's connection dropped — reconnecting…");
});

client.on("ended", ({ reason }) => {
  if (reason === "you_left") return;
  ended = true;
  if (reportDialog.open) reportDialog.close();
  systemLine(ENDED_TEXT[reason] ?? "The chat has ended.");
  chatTitle.textContent = "This chat has ended";
  setStatusLine("Chat ended");
  nextLabel.textContent = "New stranger";
  stopButton.textContent = "Back";
  show("chat");
});

client.on("error", (error) => {
  // While reconnecting, an unreachable server is expected: say so in the status line, not an alert.
  if (client.status === "reconnecting" && error.code === "unreachable") return setStatusLine("Can't reach the server — retrying…");
  if ((error.code === "bot_check_required" || error.code === "bot_check_failed") && error.siteKey) return void humanCheck(error.siteKey);
  showError(error);
});

type Turnstile = { render(container: HTMLElement, options: { sitekey: string; callback(token: string): void }): string; remove(id: string): void };

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
    const script = Object.assign(document.createElement("script"), { src: "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit", async: true });
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
  };
}

function describe(chosen: Criteria): (Node | string)[] {
  const language = languageSelect.selectedOptions[0]?.textContent ?? chosen.language;
  const emotion = chosen.emotion === "any" ? "anything" : el("span", "emoji", chosen.emotion ?? "");
  return ["Feeling ", emotion, ` · ${language}`];
}

chooseForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = criteria();
  localStorage.setItem("strangers.criteria", JSON.stringify(chosen));
  clearError();
  void client.match(chosen);
});

function restoreChoices(): void {
  try {
    const saved = JSON.parse(localStorage.getItem("strangers.criteria") ?? "null") as Criteria | null;
    if (!saved) return;
    const emotion = chooseForm.querySelector<HTMLInputElement>(`input[name=emotion][value="${CSS.escape(saved.emotion ?? "")}"]`);
    if (emotion) emotion.checked = true;
    if (saved.language) languageSelect.value = saved.language;
    anyLanguageInput.checked = saved.anyLanguage === true;
    nameInput.value = saved.userName ?? "";
  } catch {
    localStorage.removeItem("strangers.criteria");
  }
}

$("cancel").addEventListener("click", () => client.cancel());

function goNext(): void {
  log.replaceChildren();
  typingLine.textContent = "";
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
  const item = bubble(text, true, "sending…");
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

const REASON_LABELS: Record<ReportReason, string> = {
  spam: "Spam or advertising",
  harassment: "Harassment or bullying",
  sexual: "Sexual content",
  hate: "Hate speech",
  underage: "They seem to be under age",
  other: "Something else",
};

$("report-reasons").append(
  ...REPORT_REASONS.map((reason) => {
    const label = el("label", "reason");
    const radio = Object.assign(document.createElement("input"), { type: "radio", name: "reason", value: reason, required: true });
    label.append(radio, REASON_LABELS[reason]);
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

restoreChoices();
void client.resume().then((resumed) => {
  if (!resumed) show("choose");
});
