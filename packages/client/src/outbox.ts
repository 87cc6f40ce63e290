/**
 * One chat's messages as this side sees them: what it sent that the room has not yet
 * acknowledged (sent again after a reconnect), and which messages it has already shown (so a
 * history replay or a resend shows each message once). Knows nothing of sockets.
 */
import { type ChatMessage, cleanMessage, LIMITS } from "@strangers/protocol";

export type Outgoing = { clientId: string; text: string };

export class Outbox {
  private readonly seen = new Set<string>();
  private waiting: Outgoing[] = [];

  constructor(private readonly random: () => number) {}

  /**
   * A new message, or null when the server would refuse it. Cleaned as the server cleans it, so a
   * message the client accepts is one the server takes (NFC can lengthen text).
   */
  add(text: string): Outgoing | null {
    const cleaned = cleanMessage(text);
    if (!cleaned || cleaned.length > LIMITS.messageLength) return null;
    const message = { clientId: randomId(this.random), text: cleaned };
    this.waiting.push(message);
    return message;
  }

  /** What is still unacknowledged, oldest first: to send again after a reconnect. */
  get unacknowledged(): readonly Outgoing[] {
    return this.waiting;
  }

  /**
   * A message from the room, live or replayed. False if it was shown before. An own message
   * (`mine`) coming back is the acknowledgement of the one with its clientId.
   */
  receive(m: ChatMessage, mine: boolean): boolean {
    // By the sender's clientId where there is one: the room relays a message before storing it,
    // so if that write is lost the sender resends it (same clientId) and it arrives twice.
    const key = m.clientId ? `${m.from}\n${m.clientId}` : m.id;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (mine && m.clientId) this.waiting = this.waiting.filter((o) => o.clientId !== m.clientId);
    return true;
  }

  /** The room refused the message with this clientId: it leaves the outbox (not resent) and is returned. */
  refuse(clientId: string | undefined): Outgoing | undefined {
    const refused = clientId ? this.waiting.find((o) => o.clientId === clientId) : undefined;
    if (refused) this.waiting = this.waiting.filter((o) => o !== refused);
    return refused;
  }
}

function randomId(random: () => number): string {
  return Array.from({ length: 16 }, () => Math.floor(random() * 36).toString(36)).join("");
}
