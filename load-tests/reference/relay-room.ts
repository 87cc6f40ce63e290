/**
 * The reference room: the least a Workers service can do and still speak the chat protocol
 * to the load driver, written the way Cloudflare's workers-chat-demo writes its room (one
 * Durable Object per pair, the WebSocket Hibernation API, every message stored with the
 * SQLite-backed `storage.put` and broadcast with one `JSON.stringify`). Pings are answered
 * by the runtime, as in the service. Pairing is the floor's: first come, first served per
 * queue, held in the worker's memory (one isolate locally; not a design for production).
 *
 * The bench runs it on the same workerd process setup as the service, so service ÷
 * reference is what the service adds on top of the runtime's own cost for the same job.
 */
import { DurableObject } from "cloudflare:workers";
import { CHAT_PATH, chatUrl, PING, PONG, PROTOCOL_VERSION, WAIT_PATH, waitUrl } from "@strangers/protocol";

type Env = { RELAY_ROOM: DurableObjectNamespace<RelayRoom> };
type Side = { alias: string; token: string; name: string };
type Pairing = {
  sessionId: string;
  token: string;
  wsUrl: string;
  partnerId: string;
  partnerName: string;
  relaxed: [];
  shared: [];
};
type Attachment = { alias: string | null; wait: boolean };

/** Per queue, the session whose owner waits for a stranger. */
const waiting = new Map<string, { sessionId: string; owner: Side }>();
const id = () => crypto.randomUUID().replaceAll("-", "");
const side = (name: unknown): Side => ({
  alias: id().slice(0, 10),
  token: id(),
  name: typeof name === "string" ? name : "Stranger",
});
const room = (env: Env, sessionId: string) => env.RELAY_ROOM.get(env.RELAY_ROOM.idFromName(sessionId));
const NO_WIDENING = { emotionAfterMs: 30_000, languageAfterMs: null };

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/api/health") return Response.json({ ok: true });
    if (url.pathname === CHAT_PATH || url.pathname === WAIT_PATH) {
      const sessionId = url.searchParams.get(url.pathname === CHAT_PATH ? "sessionId" : "seat") ?? "";
      return room(env, sessionId).fetch(request);
    }
    if (url.pathname !== "/api/match" || request.method !== "POST") return new Response("not found", { status: 404 });
    const body = (await request.json()) as { userName?: string; emotion?: string; language?: string; ticket?: string };
    const queueKey = `${body.emotion ?? "any"}:${(body.language ?? "any").toLowerCase()}`;
    if (body.ticket) {
      const sessionId = body.ticket.split(".")[0];
      const pairing = await room(env, sessionId).pairingOf(body.ticket.split(".")[1]);
      if (pairing) return Response.json({ success: true, matched: true, queueKey, ...pairing });
      return Response.json(waitingAnswer(sessionId, body.ticket.split(".")[1], queueKey, url.origin));
    }
    const open = waiting.get(queueKey);
    if (open) {
      waiting.delete(queueKey);
      const pairing = await room(env, open.sessionId).claim(open.owner, side(body.userName), url.origin);
      return Response.json({ success: true, matched: true, queueKey, ...pairing });
    }
    const sessionId = id();
    const owner = side(body.userName);
    waiting.set(queueKey, { sessionId, owner });
    await room(env, sessionId).open(owner);
    return Response.json(waitingAnswer(sessionId, owner.token, queueKey, url.origin));
  },
} satisfies ExportedHandler<Env>;

function waitingAnswer(sessionId: string, token: string, queueKey: string, origin: string) {
  const wsUrl = waitUrl(origin, "reference", sessionId);
  return {
    success: true,
    matched: false,
    message: "waiting",
    queueKey,
    ticket: `${sessionId}.${token}`,
    wsUrl,
    pollAfterMs: 3000,
    expiresInMs: 30_000,
    widening: NO_WIDENING,
  };
}

export class RelayRoom extends DurableObject<Env> {
  private sides: Side[] = [];
  private origin = "";

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    ctx.blockConcurrencyWhile(async () => {
      this.sides = (await ctx.storage.get<Side[]>("sides")) ?? [];
      this.origin = (await ctx.storage.get<string>("origin")) ?? "";
    });
  }

  async open(owner: Side): Promise<void> {
    this.sides = [owner];
    await this.ctx.storage.put("sides", this.sides);
  }

  /** The stranger takes the seat: the owner hears of it on its waiting socket. */
  async claim(owner: Side, claimer: Side, origin: string): Promise<Pairing> {
    this.sides = [owner, claimer];
    this.origin = origin;
    await this.ctx.storage.put({ sides: this.sides, origin });
    const forOwner = JSON.stringify({ type: "matched", ...this.pairing(owner, claimer) });
    for (const ws of this.ctx.getWebSockets("wait")) {
      ws.send(forOwner);
      ws.close(4003, "matched");
    }
    return this.pairing(claimer, owner);
  }

  pairingOf(token: string): Pairing | null {
    const [owner, claimer] = this.sides;
    return owner?.token === token && claimer ? this.pairing(owner, claimer) : null;
  }

  private pairing(me: Side, partner: Side): Pairing {
    const sessionId = this.ctx.id.name!;
    return {
      sessionId,
      token: me.token,
      wsUrl: chatUrl(this.origin, sessionId),
      partnerId: partner.alias,
      partnerName: partner.name,
      relaxed: [],
      shared: [],
    };
  }

  async fetch(request: Request): Promise<Response> {
    const wait = new URL(request.url).pathname === WAIT_PATH;
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], wait ? ["wait"] : ["chat"]);
    pair[1].serializeAttachment({ alias: null, wait } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const a = ws.deserializeAttachment() as Attachment;
    const frame = JSON.parse(String(raw)) as { type: string; token?: string; text?: string; clientId?: string };
    if (a.alias === null) return this.hello(ws, a, frame.token);
    if (frame.type === "message") {
      const clientId = frame.clientId ? { clientId: frame.clientId } : {};
      const message = JSON.stringify({
        type: "message",
        id: id().slice(0, 12),
        from: a.alias,
        text: String(frame.text),
        at: Date.now(),
        ...clientId,
      });
      for (const other of this.ctx.getWebSockets("chat")) other.send(message);
      await this.ctx.storage.put(`m${Date.now().toString(36)}${id().slice(0, 4)}`, message);
    } else if (frame.type === "leave") {
      for (const other of this.ctx.getWebSockets()) {
        other.send('{"type":"closed","reason":"left"}');
        other.close(4002, "chat ended: left");
      }
    }
  }

  private async hello(ws: WebSocket, a: Attachment, token: string | undefined): Promise<void> {
    const me = this.sides.find((s) => s.token === token);
    if (!me) return ws.close(4401, "invalid_token");
    ws.serializeAttachment({ ...a, alias: me.alias } satisfies Attachment);
    const [owner, claimer] = this.sides;
    if (a.wait) {
      if (claimer) {
        ws.send(JSON.stringify({ type: "matched", ...this.pairing(owner, claimer) }));
        ws.close(4003, "matched");
      } else ws.send(JSON.stringify({ type: "waiting", v: PROTOCOL_VERSION, queueKey: "", widening: NO_WIDENING }));
      return;
    }
    const partner = me === owner ? claimer : owner;
    const online = (s: Side) =>
      this.ctx
        .getWebSockets("chat")
        .some((o) => o !== ws && (o.deserializeAttachment() as Attachment).alias === s.alias);
    const history = [...(await this.ctx.storage.list<string>({ prefix: "m", reverse: true, limit: 20 })).values()]
      .reverse()
      .map((m) => JSON.parse(m));
    const view = (s: Side, isOnline: boolean) => ({ id: s.alias, name: s.name, online: isOnline });
    ws.send(
      JSON.stringify({
        type: "welcome",
        v: PROTOCOL_VERSION,
        sessionId: this.ctx.id.name,
        you: { id: me.alias, name: me.name },
        partner: view(partner, online(partner)),
        relaxed: [],
        shared: [],
        history,
      }),
    );
    const joined = JSON.stringify({ type: "partner_joined", partner: view(me, true) });
    for (const other of this.ctx.getWebSockets("chat")) if (other !== ws) other.send(joined);
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
  }
}
