/**
 * The floor: the least a server can do and still speak the chat protocol to the load
 * driver. It pairs users in memory (first come, first served per queue), pushes the pairing
 * to the waiting socket, and relays each message to both participants; no storage, no
 * validation beyond JSON, one process. The bench drives it exactly like the service, so
 * service/floor is the service's own cost.
 *
 *   node load-tests/floor/relay.ts [port]
 */
import { createServer } from "node:http";
import {
  CHAT_PATH,
  chatUrl,
  type MatchFound,
  type MatchWaiting,
  type Pairing,
  PING,
  PONG,
  PROTOCOL_VERSION,
  type ServerFrame,
  WAIT_PATH,
  waitUrl,
} from "@strangers/protocol";
import { type WebSocket, WebSocketServer } from "ws";

type Participant = { alias: string; token: string; name: string; socket: WebSocket | null; joined: boolean };
type Session = { id: string; queueKey: string; owner: Participant; claimer: Participant | null; origin: string };

/** By seat id (the wait) and by session id (the chat): one object serves both here. */
const sessions = new Map<string, Session>();
/** Per queue, the one session waiting for a stranger. */
const waiting = new Map<string, Session>();
let counter = 0;
const newId = () => `f${(++counter).toString(36).padStart(11, "0")}`;
const participant = (name: string): Participant => ({
  alias: newId(),
  token: newId(),
  name,
  socket: null,
  joined: false,
});

function matchFor(
  body: { userName?: string; emotion?: string; language?: string; ticket?: string },
  origin: string,
): MatchWaiting | MatchFound {
  const queueKey = `${body.emotion ?? "any"}:${(body.language ?? "any").toLowerCase()}`;
  const ticketed = body.ticket ? sessions.get(body.ticket.split(".")[0]) : undefined;
  if (ticketed?.claimer)
    return { success: true, matched: true, queueKey, ...pairing(ticketed, ticketed.owner, ticketed.claimer) };
  if (ticketed) return wait(ticketed);

  const open = waiting.get(queueKey);
  if (open) {
    waiting.delete(queueKey);
    open.claimer = participant(body.userName ?? "Stranger");
    send(open.owner.socket, { type: "matched", ...pairing(open, open.owner, open.claimer) });
    return { success: true, matched: true, queueKey, ...pairing(open, open.claimer, open.owner) };
  }
  const session: Session = {
    id: newId(),
    queueKey,
    owner: participant(body.userName ?? "Stranger"),
    claimer: null,
    origin,
  };
  sessions.set(session.id, session);
  waiting.set(queueKey, session);
  return wait(session);
}

const wait = (s: Session): MatchWaiting => ({
  success: true,
  matched: false,
  message: "waiting",
  queueKey: s.queueKey,
  ticket: `${s.id}.${s.owner.token}`,
  wsUrl: waitUrl(s.origin, "floor", s.id),
  pollAfterMs: 3000,
  expiresInMs: 30_000,
  // Pairs arrive together in one queue, so the floor never needs to widen a search.
  widening: { emotionAfterMs: 30_000, languageAfterMs: null },
});

const pairing = (s: Session, me: Participant, partner: Participant): Pairing => ({
  sessionId: s.id,
  token: me.token,
  wsUrl: chatUrl(s.origin, s.id),
  partnerId: partner.alias,
  partnerName: partner.name,
  relaxed: [],
  shared: [],
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
  const isChat = url.pathname === CHAT_PATH;
  const session = sessions.get(url.searchParams.get(isChat ? "sessionId" : "seat") ?? "");
  if (!session || (url.pathname !== WAIT_PATH && !isChat)) return void socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    // The first frame names the participant, as with the service.
    ws.once("message", (data) => {
      const { token } = JSON.parse(data.toString()) as { token?: string };
      const me = [session.owner, session.claimer].find((p) => p?.token === token);
      if (!me) return ws.close(4401);
      if (isChat) join(session, me, ws);
      else waitOn(session, me, ws);
    });
  });
});

function waitOn(session: Session, me: Participant, ws: WebSocket): void {
  if (session.claimer) return send(ws, { type: "matched", ...pairing(session, me, session.claimer) });
  me.socket = ws;
  send(ws, {
    type: "waiting",
    v: PROTOCOL_VERSION,
    queueKey: session.queueKey,
    widening: { emotionAfterMs: 30_000, languageAfterMs: null },
  });
  ws.on("message", (data) => data.toString() === PING && ws.send(PONG));
  ws.on("close", () => {
    if (me.socket === ws) me.socket = null;
  });
}

function join(session: Session, me: Participant, ws: WebSocket): void {
  me.socket = ws;
  const partner = session.owner === me ? session.claimer! : session.owner;
  send(ws, {
    type: "welcome",
    v: PROTOCOL_VERSION,
    sessionId: session.id,
    you: { id: me.alias, name: me.name },
    partner: view(partner),
    relaxed: [],
    shared: [],
    history: [],
  });
  if (!me.joined) send(partner.socket, { type: "partner_joined", partner: view(me) });
  me.joined = true;

  ws.on("message", (data) => {
    const text = data.toString();
    if (text === PING) return ws.send(PONG);
    const frame = JSON.parse(text) as { type: string; text?: string; clientId?: string };
    if (frame.type === "message") {
      const clientId = frame.clientId ? { clientId: frame.clientId } : {};
      const out = JSON.stringify({
        type: "message",
        id: newId(),
        from: me.alias,
        text: frame.text ?? "",
        at: Date.now(),
        ...clientId,
      } satisfies ServerFrame);
      session.owner.socket?.send(out);
      session.claimer?.socket?.send(out);
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
