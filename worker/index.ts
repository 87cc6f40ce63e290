/**
 * The Worker: its HTTP routes, and the Durable Object classes wrangler.toml binds.
 * ARCHITECTURE.md draws how the parts depend on each other.
 */
import app from "./http/routes";

export { Lobby } from "./matching/lobby";
export { ChatRoom } from "./room/chat-room";
export { Stats } from "./stats/stats";
export { DeviceBook } from "./trust/device-book";

export default app satisfies ExportedHandler<Env>;
