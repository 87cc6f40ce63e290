/**
 * The conversation log: messages as bubbles, lines from the page (why a chat ended), and one's
 * own messages shown at once, before the server's echo, marked "not sent" when refused.
 */
import type { ChatMessage, EndReason, ErrorCode } from "@strangers/client";
import { t } from "./i18n";
import type { Messages } from "./locales/en";
import { $, el } from "./page";

const log = $<HTMLDivElement>("log");
const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

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

export class Conversation {
  /** Own messages shown before the server's echo, by client id, so the echo updates them in place. */
  private readonly pending = new Map<string, HTMLElement>();

  newChat(): void {
    log.replaceChildren();
    this.pending.clear();
  }

  /** Empties the log on screen; own messages still waiting for their echo stay known. */
  clear(): void {
    log.replaceChildren();
  }

  showMessage(message: ChatMessage, mine: boolean): void {
    const at = time.format(message.at);
    const mineEarly = mine && message.clientId ? this.pending.get(message.clientId) : undefined;
    const item = mineEarly ?? bubble(message.text, mine, at);
    if (mineEarly) {
      this.pending.delete(message.clientId!);
      mineEarly.classList.remove("pending", "failed");
      // The filter may have hidden parts: the sender sees what the stranger saw.
      mineEarly.querySelector(".text")!.textContent = message.text;
      mineEarly.querySelector("time")!.textContent = at;
    } else append(item);
    if (message.masked) {
      item.classList.add("masked");
      item.querySelector("time")!.textContent = `${at} · ${t.maskedNote}`;
    }
  }

  showSending(clientId: string, text: string): void {
    // A resent refused message takes the place of its "not sent" copy instead of repeating it.
    for (const [id, failed] of this.pending) {
      if (failed.classList.contains("failed") && failed.querySelector(".text")!.textContent === text) {
        this.pending.delete(id);
        failed.remove();
      }
    }
    const item = bubble(text, true, t.sending);
    item.classList.add("pending");
    this.pending.set(clientId, item);
    append(item);
  }

  /** Marks an own message "not sent", with why; false when it is none the log waits on. */
  markUnsent(clientId: string, code: ErrorCode): boolean {
    const item = this.pending.get(clientId);
    if (!item) return false;
    item.classList.replace("pending", "failed");
    item.querySelector("time")!.textContent =
      code === "message_filtered" ? t.notSentFiltered : code === "rate_limited" ? t.notSentTooFast : t.notSent;
    // Only a message sent too fast is worth sending again: its copy stays, for the resend to take its place.
    if (code !== "rate_limited") this.pending.delete(clientId);
    return true;
  }

  showEnded(reason: Exclude<EndReason, "you_left">): void {
    append(el("div", "system", t[ENDED_TEXT[reason] ?? "chatEnded"] as string));
  }
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
