/**
 * The Worker: its HTTP routes, and the Durable Object classes wrangler.toml binds.
 * ARCHITECTURE.md draws how the parts depend on each other.
 */
import { env } from "cloudflare:workers";
import app from "./http/routes";
import { settings } from "./platform/config";

// A bad var is named when the worker loads (wrangler dev starting, wrangler deploy uploading), not at the first request that reads it.
settings(env);

export { Lobby } from "./matching/lobby";
export { ChatRoom } from "./room/chat-room";
export { Stats } from "./stats/stats";
export { DeviceBook } from "./trust/device-book";

export default app satisfies ExportedHandler<Env>;
