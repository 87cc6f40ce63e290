/**
 * `@strangers/client`: the strangers chat's client for any JavaScript runtime with `fetch` and
 * `WebSocket` (browsers, Node 22, React Native/Expo). `ChatClient` is the session; `Consent`
 * the first-visit step; `ReconnectingSocket` the connection under the session. The protocol's
 * values and types an app needs are re-exported here, so nothing else needs installing.
 */

export type {
  Around,
  ChatMessage,
  CloseReason,
  ErrorCode,
  Policy,
  Relaxed,
  ReportReason,
} from "@strangers/protocol";
export {
  EMOTIONS,
  GUIDELINES_VERSION,
  LANGUAGES,
  LIMITS,
  PROTOCOL_VERSION,
  REPORT_REASONS,
  spellInterest,
} from "@strangers/protocol";
export type { ClientError, FetchLike } from "./api.ts";
export { ChatClient, type ChatClientOptions, type Criteria, type Identity } from "./client.ts";
export { Consent, type ConsentOptions, DEFAULT_POLICY } from "./consent.ts";
export type { ClientEvents, EndReason, PartnerInfo, Status, Widening } from "./events.ts";
export { memoryStore, type SessionStore } from "./store.ts";
export {
  ReconnectingSocket,
  type SocketFactory,
  type SocketLike,
  type TransportHandlers,
  type TransportOptions,
} from "./transport.ts";

import { LIMITS } from "@strangers/protocol";

/** The longest message the server takes, after cleaning (`send` returns null past it). */
export const MAX_MESSAGE_LENGTH: number = LIMITS.messageLength;
