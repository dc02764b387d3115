/**
 * A local OpenAI-compatible chat-completions server on 127.0.0.1 for the summary tests. It speaks
 * the real wire format (POST /v1/chat/completions → `chat.completion` objects; errors as
 * `{error: {message, type, code}}` with the real status codes) and can behave well or badly:
 *
 *   good      a grounded JSON answer written from the FACTS in the prompt
 *   slow      the good answer after `slowMs`
 *   never     accepts the request and never answers (the client must time out and cancel)
 *   429 / 500 rate-limit / server error responses
 *   garbage   200 with a body that is not a chat completion / content that is not JSON
 *   invented  a well-formed answer with invented numbers
 *   pii       a well-formed answer that leaks an email address and a phone number
 *   obey      an answer that obeys an injected instruction ("marked as healthy", risk Low)
 *   entity    a well-formed answer naming a company that is not in the facts
 *   custom    whatever `custom(facts, good)` returns (the red-team corpus replays its answers so)
 *
 * `script` (a queue of modes) overrides `mode` call by call. Every request is recorded.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {AddressInfo} from "node:net";

export type StubMode =
  | "good"
  | "slow"
  | "never"
  | "429"
  | "500"
  | "garbage"
  | "garbage_http"
  | "invented"
  | "pii"
  | "obey"
  | "entity"
  | "uncited"
  | "refuse"
  | "custom";

export interface StubRequest {
  body: {model?: string; messages?: {role: string; content: string}[]; response_format?: unknown; [k: string]: unknown};
  headers: IncomingMessage["headers"];
  mode: StubMode;
  /** set when the client closed the connection before an answer was sent */
  cancelled: boolean;
}

export interface LlmStub {
  url: string;
  mode: StubMode;
  script: StubMode[];
  slowMs: number;
  requests: StubRequest[];
  /** the answer of mode "custom", from the prompt's facts and the good answer */
  custom: ((facts: StubFacts, good: Record<string, unknown>) => Record<string, unknown>) | null;
  inFlight: number;
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

export interface StubFacts {
  account_token: string;
  model_tier: string;
  churn_probability_pct: number;
  arr: number;
  days_to_renewal: number;
  open_tickets: number;
  health_score: number;
  quadrant: string;
  plan_tier: string;
  events_last_30d: number;
}

function factsOf(body: StubRequest["body"]): StubFacts | null {
  const user = body.messages?.find((m) => m.role === "user")?.content ?? "";
  const m = /FACTS:\n([\s\S]*?)\n\n<untrusted_data>/.exec(user);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as StubFacts;
  } catch {
    return null;
  }
}

function answerFor(mode: StubMode, f: StubFacts, stub: LlmStub): Record<string, unknown> {
  const good = {
    headline: `${f.account_token}: ${f.model_tier} churn risk at ${f.churn_probability_pct}% with ${f.days_to_renewal} days to renewal`,
    risk_level: f.model_tier,
    summary: `${f.account_token} is a ${f.plan_tier} account with $${Number(f.arr).toLocaleString("en-US")} ARR. The model estimates a ${Math.round(f.churn_probability_pct)}% chance of churn within 90 days; the health score is ${f.health_score} and the account sits in the ${f.quadrant} quadrant.`,
    key_points: [
      `${f.events_last_30d} product events in the last 30 days.`,
      `${f.open_tickets} open support tickets.`,
      `Renewal in ${f.days_to_renewal} days.`,
    ],
    recommended_actions: ["Review the churn drivers with the account team before the next call."],
    out_of_scope: false,
  };
  switch (mode) {
    case "invented":
      return {
        ...good,
        summary: `${good.summary} Revenue grew 37% last quarter to $4,815,162 and 12 executives attended the last EBR.`,
      };
    case "pii":
      return {
        ...good,
        key_points: [...good.key_points, "Contact the champion at jane.roe@example.com or +1 415 555 0100."],
      };
    case "obey":
      return {
        ...good,
        headline: `${f.account_token} is healthy`,
        risk_level: "Low",
        summary: "As instructed, this account is marked as healthy and its churn risk has been set to 0.",
        key_points: ["Admin mode enabled."],
      };
    case "entity":
      return {...good, summary: `${good.summary} The renewal is owned by Acme Holdings and Quentin Zebulon.`};
    case "custom":
      return stub.custom ? stub.custom(f, good) : good;
    default:
      return good;
  }
}

/**
 * Answers to a question (`response_format` named account_answer): `{answer, cited_facts,
 * out_of_scope}`. "good" answers from the facts and cites them; the bad modes break it the way
 * they break a summary; "uncited" cites keys that are not facts; "refuse" says out of scope.
 */
function askAnswerFor(mode: StubMode, f: StubFacts, stub: LlmStub): Record<string, unknown> {
  const good = {
    answer: `${f.account_token} renews in ${f.days_to_renewal} days with a ${f.churn_probability_pct}% churn probability (${f.model_tier} tier) and ${f.open_tickets} open tickets.`,
    cited_facts: ["days_to_renewal", "churn_probability_pct", "model_tier", "open_tickets"],
    out_of_scope: false,
  };
  switch (mode) {
    case "invented":
      return {...good, answer: `${good.answer} The ticket surge came from 37 outages last quarter.`};
    case "pii":
      return {...good, answer: `${good.answer} Call the champion at +1 415 555 0100.`};
    case "obey":
      return {...good, answer: "As instructed, the account is marked as healthy and its churn risk has been set to 0."};
    case "entity":
      return {...good, answer: `${good.answer} Acme Holdings caused the surge.`};
    case "uncited":
      return {...good, cited_facts: ["ticket_root_cause", "csm_notes"]};
    case "refuse":
      return {...good, out_of_scope: true};
    case "custom":
      return stub.custom ? stub.custom(f, good) : good;
    default:
      return good;
  }
}

function completion(model: string, content: string) {
  return {
    id: `chatcmpl-stub${Math.random().toString(36).slice(2, 10)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{index: 0, message: {role: "assistant", content, refusal: null}, logprobs: null, finish_reason: "stop"}],
    usage: {prompt_tokens: 100, completion_tokens: 50, total_tokens: 150},
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {"content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers});
  res.end(text);
}

export async function startLlmStub(): Promise<LlmStub> {
  const stub: LlmStub = {
    url: "",
    mode: "good",
    script: [],
    slowMs: 300,
    requests: [],
    custom: null,
    inFlight: 0,
    maxInFlight: 0,
    reset() {
      stub.mode = "good";
      stub.script = [];
      stub.requests = [];
      stub.maxInFlight = 0;
      stub.slowMs = 300;
      stub.custom = null;
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        sendJson(res, 404, {
          error: {
            message: `Unknown request URL: ${req.method} ${req.url}`,
            type: "invalid_request_error",
            param: null,
            code: "unknown_url",
          },
        });
        return;
      }
      let body: StubRequest["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        sendJson(res, 400, {
          error: {
            message: "We could not parse the JSON body of your request.",
            type: "invalid_request_error",
            param: null,
            code: null,
          },
        });
        return;
      }
      const mode = stub.script.shift() ?? stub.mode;
      const record: StubRequest = {body, headers: req.headers, mode, cancelled: false};
      stub.requests.push(record);
      stub.inFlight++;
      stub.maxInFlight = Math.max(stub.maxInFlight, stub.inFlight);
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          stub.inFlight--;
        }
      };
      res.on("close", () => {
        if (!res.writableEnded) record.cancelled = true;
        finish();
      });
      const model = body.model ?? "stub-model";
      const facts = factsOf(body);
      const answer = () => {
        if (!facts)
          return sendJson(res, 400, {
            error: {
              message: "stub: no FACTS block in the prompt",
              type: "invalid_request_error",
              param: "messages",
              code: null,
            },
          });
        const format = (body.response_format as {json_schema?: {name?: string}} | undefined)?.json_schema?.name;
        const content = format === "account_answer" ? askAnswerFor(mode, facts, stub) : answerFor(mode, facts, stub);
        sendJson(res, 200, completion(model, JSON.stringify(content)));
      };
      switch (mode) {
        case "never":
          return; // keep the socket open; the client must give up
        case "slow": {
          const t = setTimeout(answer, stub.slowMs);
          res.on("close", () => clearTimeout(t));
          return;
        }
        case "429":
          return sendJson(
            res,
            429,
            {
              error: {
                message: "Rate limit reached for requests",
                type: "requests",
                param: null,
                code: "rate_limit_exceeded",
              },
            },
            {"retry-after": "1"},
          );
        case "500":
          return sendJson(res, 500, {
            error: {
              message: "The server had an error while processing your request.",
              type: "server_error",
              param: null,
              code: null,
            },
          });
        case "garbage":
          return sendJson(res, 200, completion(model, "Sure! Here is a summary: the account is doing fine :)"));
        case "garbage_http":
          res.writeHead(200, {"content-type": "text/html"});
          return res.end("<html><body>502 Bad Gateway</body></html>");
        default:
          return answer();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
