/**
 * The page: four screens (consent on the first visit, choose, waiting, chat) driven by
 * ChatClient events, in the page language i18n.ts picked. This file wires the parts together:
 * the client's events to the screens, and the person's actions to the client. User text only
 * ever reaches the DOM through `textContent`, never as HTML.
 */

import {
  ChatClient,
  Consent,
  DEFAULT_POLICY,
  MAX_MESSAGE_LENGTH,
  type Policy,
  type ReportReason,
  type Status,
} from "@strangers/client";
import { clearError, showError } from "./alert";
import { ChatScreen } from "./chat-screen";
import { criteria, restoreChoices, saveChoices } from "./choices";
import { ConsentScreen } from "./consent-screen";
import { Conversation } from "./conversation";
import { humanCheck } from "./human-check";
import { preferredLocale, t } from "./i18n";
import { $, chooseForm, composer, messageInput, screens, show, stopButton } from "./page";
import { PageLanguage } from "./page-language";
import { listReportReasons } from "./report-reasons";
import { TitleBadge } from "./title-badge";
import { WaitingScreen } from "./waiting";

const consentForm = $<HTMLFormElement>("consent-form");
const reportButton = $<HTMLButtonElement>("report");
const reportDialog = $<HTMLDialogElement>("report-dialog");
const reportForm = reportDialog.querySelector("form")!;
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
const consentScreen = new ConsentScreen(consent);
const badge = new TitleBadge(document, (n) => t.newMessages(n));
const waiting = new WaitingScreen(() => client.around());
const chat = new ChatScreen();
const conversation = new Conversation();

// ---------------------------------------------------------------- client events

client.on("status", ({ status }) => render(status));

function render(status: Status): void {
  reportButton.disabled = status !== "chatting";
  if (status !== "searching") waiting.stop();
  switch (status) {
    case "idle":
      return show("choose");
    case "searching":
      clearError();
      waiting.start();
      return show("waiting");
    case "connecting":
      chat.showPartnerName(client.partner?.name ?? "");
      chat.setStatus("connecting");
      chat.setComposerEnabled(false);
      return show("chat");
    case "chatting":
      clearError();
      chat.setStatus("connected");
      chat.setComposerEnabled(true);
      return show("chat");
    case "reconnecting":
      chat.setStatus("reconnecting");
      return chat.setComposerEnabled(true);
    case "ended":
      chat.setComposerEnabled(false);
      return;
  }
}

client.on("waiting", ({ widening }) => waiting.showWidening(widening));

client.on("paired", ({ partner, relaxed, shared }) => {
  conversation.newChat();
  chat.paired(partner.name, relaxed, shared);
  show("chat");
  messageInput.focus();
});

client.on("message", ({ message, mine }) => {
  conversation.showMessage(message, mine);
  if (!mine) badge.unseen();
});
client.on("unsent", ({ clientId, text, code }) => {
  if (!conversation.markUnsent(clientId, code)) return;
  // Sent too fast, retrying is one Enter away (a draft the user already started wins); anything else would only be refused again.
  if (code === "rate_limited" && !messageInput.value) messageInput.value = text;
});
client.on("typing", ({ isTyping }) => chat.showTyping(isTyping));
client.on("partner", ({ online }) => {
  if (client.status !== "chatting") return;
  chat.setStatus(online ? "connected" : "partnerDropped");
});

client.on("ended", ({ reason }) => {
  if (reason === "you_left") return;
  if (reportDialog.open) reportDialog.close();
  conversation.showEnded(reason);
  chat.end();
  show("chat");
});

client.on("error", (error) => {
  // While reconnecting, an unreachable server is expected: say so in the status line, not an alert.
  if (client.status === "reconnecting" && error.code === "unreachable") return chat.setStatus("retrying");
  if ((error.code === "bot_check_required" || error.code === "bot_check_failed") && error.siteKey)
    return void humanCheck(error.siteKey, (token) => void client.match(criteria(), { turnstileToken: token }));
  showError(error);
});

// ---------------------------------------------------------------- user actions

chooseForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // Start is only reachable past the consent screen; this guards a page left open while the guidelines changed.
  void consentScreen.needed().then((needed) => {
    if (needed) return consentScreen.show();
    const chosen = criteria();
    saveChoices(chosen);
    clearError();
    void client.match(chosen);
  });
});

$("cancel").addEventListener("click", () => client.cancel());

function goNext(): void {
  conversation.clear();
  chat.showTyping(false);
  void client.next();
}

$("next").addEventListener("click", goNext);
stopButton.addEventListener("click", () => {
  client.leave();
  client.close();
});

messageInput.maxLength = MAX_MESSAGE_LENGTH;
composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = messageInput.value.trim();
  const clientId = client.send(text);
  if (!clientId) return;
  conversation.showSending(clientId, text);
  messageInput.value = "";
});
messageInput.addEventListener("input", () => client.typing());

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || screens.chat.hidden || confirmNext.open || reportDialog.open) return;
  event.preventDefault();
  if (chat.ended) return goNext();
  confirmNext.returnValue = "";
  confirmNext.showModal();
});
confirmNext.addEventListener("close", () => {
  if (confirmNext.returnValue === "next") goNext();
  else messageInput.focus();
});

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

consentForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void consentScreen.accept().then(() => {
    show("choose");
    chooseForm.querySelector<HTMLInputElement>("input[name=emotion]:checked")?.focus();
  });
});

// ---------------------------------------------------------------- start

listReportReasons();
const pageLanguage = new PageLanguage(() => {
  consentScreen.refresh();
  if (client.status === "searching") waiting.reword();
  chat.reword();
});
pageLanguage.apply(preferredLocale(), false);
restoreChoices();
/** The first screen waits a little for the operator's policy, then shows the default and updates it when the policy comes. */
const POLICY_WAIT_MS = 3000;
void (async () => {
  const asked = consent.policy();
  const [first, resumed] = await Promise.all([
    Promise.race([asked, new Promise<Policy>((r) => setTimeout(() => r(DEFAULT_POLICY), POLICY_WAIT_MS))]),
    client.resume(),
  ]);
  consentScreen.policy = first;
  void asked.then((answer) => {
    consentScreen.policy = answer;
    consentScreen.refresh();
  });
  if (resumed) return;
  if (await consentScreen.needed()) consentScreen.show();
  else show("choose");
})();
