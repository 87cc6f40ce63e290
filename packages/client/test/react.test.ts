/**
 * `useChat` rendered with React's test renderer, over clients matched by the real worker: the
 * view follows the session (searching, chatting with whom, each message once, ended) and
 * every change re-renders.
 */
import { createElement } from "react";
import { act, create, type ReactTestRenderer } from "react-test-renderer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatClient } from "../src/client.ts";
import { type ChatView, useChat } from "../src/react.ts";
import { nodeClient } from "./node.ts";
import { uniqueMode } from "./probe.ts";

const reactGlobals = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
beforeAll(() => {
  reactGlobals.IS_REACT_ACT_ENVIRONMENT = true;
});
afterAll(() => {
  delete reactGlobals.IS_REACT_ACT_ENVIRONMENT;
});

/** A component using the hook; it records every view it renders with, in order. */
function Chat({ client, views }: { client: ChatClient; views: ChatView[] }) {
  const view = useChat(client);
  views.push(view);
  return createElement(
    "p",
    null,
    `${view.status}:${view.partner?.name ?? ""}:${view.messages.map((m) => m.message.text).join("|")}`,
  );
}

function render(client: ChatClient) {
  const views: ChatView[] = [];
  let renderer!: ReactTestRenderer;
  act(() => {
    renderer = create(createElement(Chat, { client, views }));
  });
  return { views, text: () => renderer.toJSON(), renderer, last: () => views.at(-1)! };
}

/** Lets the client's events happen inside act, so React applies their updates before we look. */
const settle = (wait: () => Promise<void>) => act(wait);

describe("useChat", () => {
  it("follows a real match, chat and Stop", async () => {
    const mode = uniqueMode();
    const ana = nodeClient();
    const ben = nodeClient();
    const view = render(ana.client);
    expect(view.last()).toMatchObject({ status: "idle", partner: null, messages: [] });

    await settle(async () => {
      await ana.client.match({ mode, userName: "Ana" });
      await ana.until("waiting", () => ana.of("waiting").length > 0);
    });
    expect(view.last().status).toBe("searching");
    expect(view.last().widening).not.toBeNull();

    await settle(async () => {
      await ben.client.match({ mode, userName: "Ben" });
      await ana.until("chatting", () => ana.client.status === "chatting", 15_000);
      // Ana may be welcomed before Ben joins: his arrival is its own event.
      await ana.until("Ben here", () => ana.of("partner").at(-1)?.online === true, 15_000);
    });
    expect(view.last()).toMatchObject({ status: "chatting", partner: { name: "Ben" }, partnerOnline: true });

    await settle(async () => {
      await ben.until("chatting", () => ben.client.status === "chatting", 15_000);
      ben.client.send("hello hook");
      ana.client.send("hi Ben");
      await ana.until("both messages", () => ana.texts().length === 2);
    });
    expect(view.last().messages.map((m) => [m.message.text, m.mine])).toEqual(
      expect.arrayContaining([
        ["hello hook", false],
        ["hi Ben", true],
      ]),
    );
    expect(view.text()).toMatchObject({ type: "p" });

    await settle(async () => {
      ben.client.leave();
      await ana.until("ended", () => ana.of("ended").length > 0);
    });
    expect(view.last()).toMatchObject({ status: "ended", ended: "left", partnerLeft: true });
    // A snapshot is a value: the views rendered before are unchanged.
    expect(view.views[0]).toMatchObject({ status: "idle", messages: [] });
    act(() => view.renderer.unmount());
    ana.client.close();
  });
});
