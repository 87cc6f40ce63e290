/**
 * The floor: the least a server can do and still speak the chat protocol to the load
 * driver. It pairs users in memory (first come, first served per queue) and relays each
 * message to both participants; no storage, no validation beyond JSON, one process.
 * The bench drives it exactly like the service, so service/floor is the service's own cost.
 *
 *   node load-tests/floor/relay.ts [port]
 */
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { chatUrl, type MatchResponse, type ServerFrame } from "../../worker/protocol.ts";

type Participant = { alias: string; token: string; name: string; socket: WebSocket | null };
type Session = { id: string; queueKey: string; owner: Participant; claimer: Participant | null };

const sessions = new Map<string, Session>();
/** Per queue, the one session waiting for a stranger. */
const waiting = new Map<string, Session>();
let counter = 0;
const newId = () => `f${(++counter).toString(36).padStart(11, "0")}`;

function matchFor(body: { userName?: string; emotion?: string; language?: string; ticket?: string }, origin: string): MatchResponse {
  const queueKey = `${body.emotion ?? "any"}:${(body.language ?? "any").toLowerCase()}`;
  const ticketed = body.ticket ? sessions.get(body.ticket.split(".")[0]) : undefined;
  if (ticketed?.claimer) return found(ticketed, ticketed.owner, ticketed.claimer, origin);
  if (ticketed) return wait(ticketed, origin);

  const open = waiting.get(queueKey);
  if (open) {
    waiting.delete(queueKey);
    open.claimer = { alias: newId(), token: newId(), name: body.userName ?? "Stranger", socket: null };
    send(open.owner.socket, { type: "paired", partner: view(open.claimer), relaxed: [] });
    return found(open, open.claimer, open.owner, origin);
  }
  const session: Session = { id: newId(), queueKey, owner: { alias: newId(), token: newId(), name: body.userName ?? "Stranger", socket: null }, claimer: null };
  sessions.set(session.id, session);
  waiting.set(queueKey, session);
  return wait(session, origin);
}

const wait = (s: Session, origin: string): MatchResponse => ({
  success: true,
  matched: false,
  message: "waiting",
  queueKey: s.queueKey,
  ticket: `${s.id}.${s.owner.token}`,
  wsUrl: chatUrl(origin, s.id, s.owner.token),
  sessionId: s.id,
  pollAfterMs: 3000,
  expiresInMs: 30_000,
  // Pairs arrive together in one queue, so the floor never needs to widen a search.
  widening: { emotionAfterMs: 30_000, languageAfterMs: null },
});

const found = (s: Session, me: Participant, partner: Participant, origin: string): MatchResponse => ({
  success: true,
  matched: true,
  sessionId: s.id,
  partnerId: partner.alias,
  partnerName: partner.name,
  wsUrl: chatUrl(origin, s.id, me.token),
  queueKey: s.queueKey,
  relaxed: [],
});

const view = (p: Participant) => ({ id: p.alias, name: p.name, online: p.socket !== null });

function send(socket: WebSocket | null, frame: ServerFrame): void {
  socket?.send(JSON.stringify(frame));
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/api/health") return void res.end('{"ok":true}');
  if (req.method !== "POST" || req.url !== "/api/match") return void res.writeHead(404).end();
  let raw = "";
  req.on("data", (chunk) => (raw += chunk));
  req.on("end", () => {
    try {
      const answer = matchFor(JSON.parse(raw), `http://${req.headers.host}`);
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
    } catch {
      res.writeHead(400).end();
    }
  });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });
server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url ?? "/", "http://floor");
  const session = sessions.get(url.searchParams.get("sessionId") ?? "");
  const token = url.searchParams.get("token");
  const me = session && [session.owner, session.claimer].find((p) => p?.token === token);
  if (!session || !me) return void socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => join(session, me, ws));
});

function join(session: Session, me: Participant, ws: WebSocket): void {
  me.socket = ws;
  const partner = session.owner === me ? session.claimer : session.owner;
  send(ws, {
    type: "welcome",
    sessionId: session.id,
    you: { id: me.alias, name: me.name },
    status: session.claimer ? "paired" : "waiting",
    partner: partner ? view(partner) : null,
    history: [],
  });
  if (partner) send(partner.socket, { type: "partner_joined", partner: view(me) });

  ws.on("message", (data) => {
    const text = data.toString();
    if (text === '{"type":"ping"}') return ws.send('{"type":"pong"}');
    const frame = JSON.parse(text) as { type: string; text?: string };
    if (frame.type === "message" && session.claimer) {
      const out = JSON.stringify({ type: "message", id: newId(), from: me.alias, text: frame.text ?? "", at: Date.now() } satisfies ServerFrame);
      session.owner.socket?.send(out);
      session.claimer.socket?.send(out);
    } else if (frame.type === "leave") {
      end(session);
    }
  });
  ws.on("close", () => {
    if (me.socket === ws) me.socket = null;
  });
}

function end(session: Session): void {
  sessions.delete(session.id);
  if (waiting.get(session.queueKey) === session) waiting.delete(session.queueKey);
  for (const p of [session.owner, session.claimer]) {
    send(p?.socket ?? null, { type: "closed", reason: "left" });
    p?.socket?.close(4002, "chat ended: left");
  }
}

server.listen(Number(process.argv[2] ?? 8788), "127.0.0.1");
