/**
 * k6 (>= 1.0) `chats` scenario: every VU iteration is one anonymous user who matches,
 * chats with a stranger at the standard pace and leaves; the user logic lives in
 * ../scenario/, shared with the Node driver.
 *
 *   k6 run -e BASE_URL=https://chat.example.com load-tests/k6/chats.ts
 *
 * Options (-e NAME=value): BASE_URL (default http://localhost:8787), CHATS (peak
 * concurrent chats, default 10000), RAMP, HOLD, RAMP_DOWN (k6 durations, defaults 5m,
 * 10m, 2m), CHAT_SECONDS (how long each user chats before saying goodbye, default 120).
 */
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearTimeout, setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { ChatUser, type Runtime } from "../scenario/chat-user.ts";
import { METRICS, type MetricName, QUEUES, THRESHOLDS } from "../scenario/metrics.ts";

const BASE_URL = (__ENV.BASE_URL || "http://localhost:8787").replace(/\/+$/, "");
const CHATS = Number(__ENV.CHATS || 10_000);
const CHAT_S = Number(__ENV.CHAT_SECONDS || 120);
/**
 * A VU that ramping-down stops must still finish the chat it is in, or its partner counts
 * the goodbye as lost: one full user lifetime (match timeout, chat, goodbye) of grace.
 */
const GRACE = `${CHAT_S + 60}s`;

export const options: Options = {
  scenarios: {
    chats: {
      executor: "ramping-vus",
      startVUs: 0,
      // Two sockets per chat: one VU per user.
      stages: [
        { duration: __ENV.RAMP || "5m", target: 2 * CHATS },
        { duration: __ENV.HOLD || "10m", target: 2 * CHATS },
        { duration: __ENV.RAMP_DOWN || "2m", target: 0 },
      ],
      gracefulRampDown: GRACE,
      gracefulStop: GRACE,
    },
  },
  thresholds: THRESHOLDS,
};

const metricOf = (name: string, kind: (typeof METRICS)[MetricName]): Trend | Counter | Rate => {
  switch (kind) {
    case "trend":
      // Every trend is a duration in milliseconds: k6 then prints it as one.
      return new Trend(name, true);
    case "counter":
      return new Counter(name);
    case "rate":
      return new Rate(name);
  }
};
const metrics = Object.fromEntries(
  Object.entries(METRICS).map(([name, kind]) => [name, metricOf(name, kind)]),
) as Record<MetricName, Trend | Counter | Rate>;

const runtime: Runtime = {
  now: () => Date.now(),
  async postJson(url, body) {
    const res = await http.asyncRequest("POST", url, JSON.stringify(body), {
      headers: { "Content-Type": "application/json" },
      tags: { name: "POST /api/match" },
    });
    return { status: res.status, body: res.status === 200 ? res.json() : null };
  },
  connect(url, events) {
    const ws = new WebSocket(url);
    ws.onopen = () => events.open();
    ws.onmessage = (e) => {
      if (typeof e?.data === "string") events.message(e.data);
    };
    ws.onclose = () => events.close();
    ws.onerror = (e) => events.error(String(e?.error ?? "websocket error"));
    return {
      send: (data) => ws.send(data),
      close: () => ws.close(),
    };
  },
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  record: (metric, value) => metrics[metric].add(typeof value === "boolean" ? Number(value) : value),
};

export default async function (): Promise<void> {
  const vu = exec.vu.idInTest;
  const user = new ChatUser(runtime, {
    baseUrl: BASE_URL,
    userId: `k6-${vu}-${exec.vu.iterationInScenario}-${Math.random().toString(36).slice(2, 10)}`,
    queue: QUEUES[vu % QUEUES.length],
    stopSendingAt: Date.now() + CHAT_S * 1000,
  });
  await user.run();
}
