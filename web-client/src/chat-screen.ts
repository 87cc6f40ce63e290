/**
 * The chat screen around its log: the heading with the partner's name and the notes on the
 * pairing, the Next and Stop buttons (live, or ended), the status line, the typing line, and
 * whether the composer takes text.
 */
import type { Relaxed } from "@strangers/client";
import { list, t } from "./i18n";
import type { Messages } from "./locales/en";
import { $, composer, messageInput, stopButton } from "./page";

const chatTitle = $("chat-title");
const partnerName = $("partner-name");
const partnerInitial = $("partner-initial");
const relaxedNote = $("relaxed-note");
const sharedNote = $("shared-note");
const nextLabel = $("next-label");
const statusLine = $("status-line");
const typingLine = $("typing");

type StatusKey = "connecting" | "connected" | "reconnecting" | "retrying" | "partnerDropped" | "chatEnded";

const RELAXED_TEXT: Record<Relaxed, keyof Messages> = { emotion: "relaxedEmotion", language: "relaxedLanguage" };

/**
 * Texts the page sets as things happen are kept as message keys and facts, not strings, so
 * that switching the page language mid-chat rewords them all (`reword`).
 */
export class ChatScreen {
  private hasEnded = false;
  private statusKey: StatusKey | null = null;
  private pairing: { relaxed: Relaxed[]; shared: string[] } = { relaxed: [], shared: [] };
  private partnerTyping = false;

  get ended(): boolean {
    return this.hasEnded;
  }

  paired(name: string, relaxed: Relaxed[], shared: string[]): void {
    this.hasEnded = false;
    this.pairing = { relaxed, shared };
    this.showPartnerName(name);
    partnerInitial.textContent = [...name][0]?.toUpperCase() ?? "?";
    this.showTyping(false);
    this.showHead();
  }

  showPartnerName(name: string): void {
    partnerName.textContent = name;
  }

  end(): void {
    this.hasEnded = true;
    this.showHead();
    this.setStatus("chatEnded");
  }

  setStatus(key: StatusKey): void {
    this.statusKey = key;
    statusLine.textContent = t[key];
    statusLine.dataset.tone = key === "connected" ? "ok" : "warn";
  }

  showTyping(isTyping: boolean): void {
    this.partnerTyping = isTyping;
    typingLine.textContent = isTyping ? t.typing : "";
  }

  setComposerEnabled(enabled: boolean): void {
    messageInput.disabled = !enabled;
    composer.querySelector("button")!.disabled = !enabled;
  }

  reword(): void {
    if (this.statusKey) this.setStatus(this.statusKey);
    this.showHead();
    this.showTyping(this.partnerTyping);
  }

  /** The chat's heading, its notes and its buttons: live, or ended. */
  private showHead(): void {
    chatTitle.textContent = this.hasEnded ? t.chatEndedTitle : t.chatTitle;
    nextLabel.textContent = this.hasEnded ? t.newStranger : t.next;
    stopButton.textContent = this.hasEnded ? t.back : t.stop;
    const { relaxed, shared } = this.pairing;
    relaxedNote.textContent = relaxed.map((r) => t[RELAXED_TEXT[r]]).join(" ");
    relaxedNote.hidden = relaxed.length === 0;
    sharedNote.textContent = shared.length ? t.sharedInterests(list(shared)) : "";
    sharedNote.hidden = shared.length === 0;
  }
}
