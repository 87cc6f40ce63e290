/** What a `ChatClient` tells its app: its statuses and typed events. */
import type { ChatMessage, CloseReason, ErrorCode, Relaxed } from "@strangers/protocol";
import type { ClientError } from "./api.ts";

export type Status = "idle" | "searching" | "connecting" | "chatting" | "reconnecting" | "ended";
export type PartnerInfo = { id: string; name: string };
/** When a wait widens (epoch ms): to any feeling, then to any language (null: it never does). */
export type Widening = { emotionAt: number; languageAt: number | null };

/**
 * Why a chat is over. `replaced`: this session continues in another tab or client.
 * `you_reported`: this side's report ended it (the other side sees `reported`).
 */
export type EndReason = CloseReason | "you_left" | "you_reported" | "replaced" | "unavailable";

export type ClientEvents = {
  status: { status: Status };
  /** A wait began (or a resumed one was found), and when its search widens. */
  waiting: { widening: Widening };
  /**
   * A chat began (or a resumed one was found): show the partner, start a fresh log. `relaxed` is
   * empty for an exact match; `shared`: the interests both chose.
   */
  paired: { sessionId: string; partner: PartnerInfo; relaxed: Relaxed[]; shared: string[] };
  /** Every message exactly once per client, history replays included, in server order. */
  message: { message: ChatMessage; mine: boolean };
  /**
   * An own message the server refused: sent too fast (`rate_limited`: `send` it again to retry)
   * or stopped by the moderation filter (`message_filtered`). It will not be resent by itself.
   */
  unsent: { clientId: string; text: string; code: ErrorCode };
  typing: { isTyping: boolean };
  partner: { online: boolean };
  partner_left: Record<string, never>;
  ended: { reason: EndReason };
  reconnecting: { attempt: number; delayMs: number };
  error: ClientError;
};
