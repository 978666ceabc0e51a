import WebSocket from "ws";
import { next, until } from "./helpers";
import type { NodeRedProcess } from "./node-red-process";

/** The status of every node of one Node-RED, as the editor sees it (the admin comms WebSocket). */
export class StatusWatcher {
  private readonly latest = new Map<string, { fill?: string; shape?: string; text?: string }>();
  /** Every status text since the last `forget`, per node. */
  private readonly seen = new Map<string, string[]>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: WebSocket.Data) => {
      for (const m of JSON.parse(data.toString()) as Array<{ topic: string; data: Record<string, string> }>) {
        if (!m.topic.startsWith("status/")) continue;
        const id = m.topic.slice("status/".length);
        this.latest.set(id, m.data);
        this.seen.set(id, [...(this.seen.get(id) ?? []), m.data?.text ?? ""]);
      }
    });
  }

  /** Forgets the texts seen so far (before a deploy: what comes after is the new nodes'). */
  forget(): void {
    this.seen.clear();
  }

  /** The status texts of a node since the last `forget`. */
  history(id: string): string[] {
    return this.seen.get(id) ?? [];
  }

  static async of(red: NodeRedProcess): Promise<StatusWatcher> {
    const ws = new WebSocket(`${red.url.replace(/^http/, "ws")}/comms`);
    await next(ws, "open", 5000);
    ws.send(JSON.stringify({ subscribe: "status/#" }));
    return new StatusWatcher(ws);
  }

  /** The text of a node's status, "" when it has none. */
  text(id: string): string {
    return this.latest.get(id)?.text ?? "";
  }

  status(id: string): { fill?: string; shape?: string; text?: string } | undefined {
    return this.latest.get(id);
  }

  async waitFor(id: string, check: (text: string) => boolean, ms: number, what: string): Promise<void> {
    await until(() => check(this.text(id)), ms, `${what} (status of ${id}: "${this.text(id)}")`);
  }

  close(): void {
    this.ws.close();
  }
}
