/**
 * `@strangers/client/react`: a `ChatClient` as React state. `useChat(client)` returns a view of
 * the session (status, partner, messages, typing, why it ended, the last error) that changes
 * with the client's events, through `useSyncExternalStore`; actions stay on the client
 * (`client.send`, `client.next()`, …). `chatStore(client)` is the same view without React.
 */
import type { ChatMessage, ErrorCode, Relaxed } from "@strangers/protocol";
import { useSyncExternalStore } from "react";
import type { ClientError } from "./api.ts";
import type { ChatClient } from "./client.ts";
import type { EndReason, PartnerInfo, Status, Widening } from "./events.ts";

export type ChatView = {
  status: Status;
  /** While searching: when the search widens. */
  widening: Widening | null;
  /** The current (or last) chat's partner, what was relaxed to pair you, and the interests you share. */
  partner: PartnerInfo | null;
  relaxed: readonly Relaxed[];
  shared: readonly string[];
  partnerOnline: boolean;
  partnerTyping: boolean;
  partnerLeft: boolean;
  /** The chat's messages, each once, in the server's order (history replays included). */
  messages: readonly { message: ChatMessage; mine: boolean }[];
  /** Own messages the server refused (`rate_limited`: send again; `message_filtered`). */
  unsent: readonly { clientId: string; text: string; code: ErrorCode }[];
  /** Why the last chat ended, until the next search. */
  ended: EndReason | null;
  /** The last error, until the next search or chat. */
  error: ClientError | null;
};

export type ChatStore = {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): ChatView;
};

const stores = new WeakMap<ChatClient, ChatStore>();

/**
 * The view of one client, shared by every component that shows it. It follows the client from
 * the moment it is first asked for: ask (or render `useChat`) before `match` or `resume`.
 */
export function chatStore(client: ChatClient): ChatStore {
  let store = stores.get(client);
  if (!store) stores.set(client, (store = createStore(client)));
  return store;
}

/** The session as React state; re-renders on every change. */
export function useChat(client: ChatClient): ChatView {
  const store = chatStore(client);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

const NO_CHAT = {
  partner: null,
  relaxed: [],
  shared: [],
  partnerOnline: false,
  partnerTyping: false,
  partnerLeft: false,
  messages: [],
  unsent: [],
} satisfies Partial<ChatView>;

function createStore(client: ChatClient): ChatStore {
  let view: ChatView = { status: client.status, widening: null, ...NO_CHAT, ended: null, error: null };
  const listeners = new Set<() => void>();
  const update = (change: Partial<ChatView>) => {
    view = { ...view, ...change };
    for (const listener of listeners) listener();
  };

  client.on("status", ({ status }) =>
    // A new search starts from a clean slate; anything else keeps what is on screen.
    update(status === "searching" && view.status !== "searching" ? { status, ...NO_CHAT, ended: null } : { status }),
  );
  client.on("waiting", ({ widening }) => update({ widening, error: null }));
  client.on("paired", ({ partner, relaxed, shared }) =>
    update({ ...NO_CHAT, partner, relaxed, shared, widening: null, ended: null, error: null }),
  );
  client.on("message", (m) => update({ messages: [...view.messages, m] }));
  client.on("unsent", (u) => update({ unsent: [...view.unsent, u] }));
  client.on("typing", ({ isTyping }) => update({ partnerTyping: isTyping }));
  client.on("partner", ({ online }) => update({ partnerOnline: online }));
  client.on("partner_left", () => update({ partnerLeft: true, partnerOnline: false }));
  client.on("ended", ({ reason }) => update({ ended: reason, partnerTyping: false }));
  client.on("error", (error) => update({ error }));

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    getSnapshot: () => view,
  };
}
