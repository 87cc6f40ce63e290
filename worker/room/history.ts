/**
 * A room's last messages, in its SQLite storage: a ring of `historySize` rows that each message
 * overwrites in turn, so a message costs one row written (a trim would write a second, and
 * rows written are what storage bills). Replayed in `welcome` on every (re)connect; gone with
 * the room.
 */

import { type ChatMessage, LIMITS } from "@strangers/protocol";
import { meter, meterStorage } from "../platform/metering";

type Row = { id: string; sender: string; text: string; at: number; client_id: string | null; masked: number | null };

export class History {
  /** Messages ever stored in this room: read once per wake, then counted. */
  private stored: number | null = null;

  constructor(private readonly sql: SqlStorage) {}

  append(m: ChatMessage): void {
    const seq = this.count() + 1;
    // Made with the first message: a pairing nobody speaks in costs no table.
    if (seq === 1) {
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS history (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, client_id TEXT, masked INTEGER)",
      );
    }
    const written = this.sql.exec(
      "INSERT INTO history (slot, seq, id, sender, text, at, client_id, masked) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, id = excluded.id, sender = excluded.sender, text = excluded.text, at = excluded.at, " +
        "client_id = excluded.client_id, masked = excluded.masked",
      seq % LIMITS.historySize,
      seq,
      m.id,
      m.from,
      m.text,
      m.at,
      m.clientId ?? null,
      m.masked ? 1 : null,
    );
    this.stored = seq;
    meterStorage("rows.written", "room.message", written.rowsWritten);
  }

  /** The last messages, oldest first. */
  messages(): ChatMessage[] {
    if (this.count() === 0) return [];
    const rows = this.sql
      .exec<Row>("SELECT id, sender, text, at, client_id, masked FROM history ORDER BY seq")
      .toArray();
    meter("rows.read", rows.length);
    return rows.map((r) => ({
      id: r.id,
      from: r.sender,
      text: r.text,
      at: r.at,
      ...(r.client_id ? { clientId: r.client_id } : {}),
      ...(r.masked ? { masked: true as const } : {}),
    }));
  }

  /** Asks storage once per wake (whether the table exists, then its newest row), then counts. */
  count(): number {
    this.stored ??= this.exists()
      ? (this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM history").one().n ?? 0)
      : 0;
    return this.stored;
  }

  /** When the newest message was sent (0: none): after a restart, the room's last activity. */
  lastAt(): number {
    return this.count() === 0
      ? 0
      : (this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM history").one().at ?? 0);
  }

  private exists(): boolean {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history'").toArray().length > 0;
  }
}
