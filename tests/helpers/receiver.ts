/**
 * A real webhook receiver on 127.0.0.1 for the alert tests and the benchmark. It verifies
 * every delivery with server/webhook-verify.ts, de-duplicates on webhook-id the way a real
 * receiver must (a repeated id is answered 200 but not processed again), and can be told to
 * misbehave: answer 500, answer 429 with Retry-After, or hang until the client gives up.
 */
import {createServer, type IncomingMessage, type ServerResponse} from "node:http";
import type {AddressInfo, Socket} from "node:net";
import {verifyWebhook} from "../../server/webhook-verify.ts";

export type Behaviour = {kind: "ok"} | {kind: "status"; status: number; retryAfter?: string} | {kind: "hang"};

export interface Delivery {
  id: string;
  at: number;
  outcome: "processed" | "duplicate" | "rejected" | "status" | "hang";
  status: number | null;
}

export interface Receiver {
  url: string;
  /** behaviours used one per request, before `mode` */
  script: Behaviour[];
  /** what to do once the script is used up */
  mode: Behaviour;
  /** optional delay before answering, in ms */
  delayMs: number;
  /** id → verified payload, for each id processed (acknowledged) once */
  processed: Map<string, unknown>;
  /** every request, in order */
  log: Delivery[];
  duplicates: number;
  rejected: number;
  waitForProcessed(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(opts: {
  secret: string;
  path?: string;
  mode?: Behaviour;
  script?: Behaviour[];
  delayMs?: number;
}): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const waiters: (() => void)[] = [];
  const r: Receiver = {
    url: "",
    script: [...(opts.script ?? [])],
    mode: opts.mode ?? {kind: "ok"},
    delayMs: opts.delayMs ?? 0,
    processed: new Map(),
    log: [],
    duplicates: 0,
    rejected: 0,
    waitForProcessed(n, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => r.processed.size >= n && (resolve(), true);
        if (check()) return;
        const timer = setTimeout(
          () => reject(new Error(`receiver: ${r.processed.size} of ${n} processed after ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push(() => check() && clearTimeout(timer));
      });
    },
    close() {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
    const id = String(req.headers["webhook-id"] ?? "");
    const b = r.script.shift() ?? r.mode;
    const at = Date.now();
    if (b.kind === "hang") {
      r.log.push({id, at, outcome: "hang", status: null});
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (b.kind === "status") {
      r.log.push({id, at, outcome: "status", status: b.status});
      res.writeHead(b.status, b.retryAfter !== undefined ? {"retry-after": b.retryAfter} : {}).end("not now");
      return;
    }
    let verified: {id: string; payload: unknown};
    try {
      verified = verifyWebhook(opts.secret, body, req.headers);
    } catch (e) {
      r.rejected++;
      r.log.push({id, at, outcome: "rejected", status: 401});
      res.writeHead(401).end((e as Error).message);
      return;
    }
    if (r.processed.has(verified.id)) {
      r.duplicates++;
      r.log.push({id, at, outcome: "duplicate", status: 200});
    } else {
      r.processed.set(verified.id, verified.payload);
      r.log.push({id, at, outcome: "processed", status: 200});
      for (const w of waiters) w();
    }
    res.writeHead(200, {"content-type": "application/json"}).end('{"ok":true}');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => res.writeHead(500).end(String(e)));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${opts.path ?? "/hooks/saasguard"}`;
  return r;
}
