/**
 * The API's admin endpoint that sends a signed test alert to a configured webhook target
 * against a real receiver on 127.0.0.1 that verifies the signature.
 */
import {startTestApi} from "./helpers/test-api.ts";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {newSecret} from "../loaders/alerts/targets.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {loadApiConfig} from "../server/api/settings.ts";
import {newApiKey} from "../server/api/security.ts";
import {startReceiver, type Receiver} from "./helpers/receiver.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let srv: ApiServer;
let receiver: Receiver;
const admin = newApiKey("ops", "admin");
const reader = newApiKey("crm", "read");

beforeAll(async () => {
  const warehousePath = await ensureTestWarehouse();
  const secret = newSecret();
  receiver = await startReceiver({secret});
  process.env.SAASGUARD_WEBHOOKS = JSON.stringify({
    targets: [{name: "cs-slack", url: receiver.url, format: "slack", secret}],
  });
  srv = await startTestApi({
    warehousePath,
    modelsDir: join(dirname(warehousePath), "models"),
    apiKeys: loadApiConfig({API_KEYS: `${admin.entry},${reader.entry}`}).apiKeys,
  });
});
afterAll(async () => {
  delete process.env.SAASGUARD_WEBHOOKS;
  await srv?.close();
  await receiver?.close();
});

const send = (key: string, body: unknown) =>
  fetch(`${srv.url}/admin/alerts/test`, {
    method: "POST",
    headers: {"content-type": "application/json", authorization: `Bearer ${key}`},
    body: JSON.stringify(body),
  });

describe("POST /admin/alerts/test", () => {
  it("delivers a signed test alert the receiver verifies", async () => {
    const r = await send(admin.key, {target: "cs-slack"});
    expect(r.status).toBe(200);
    const body = (await r.json()) as {ok: boolean; id: string; status: number};
    expect(body).toMatchObject({ok: true, status: 200, target: "cs-slack"});
    await receiver.waitForProcessed(1);
    expect(receiver.processed.has(body.id)).toBe(true);
    expect(receiver.rejected).toBe(0);
  });

  it("is admin-only, names unknown targets and bad bodies as problem+json", async () => {
    expect((await send(reader.key, {target: "cs-slack"})).status).toBe(403);
    const unknown = await send(admin.key, {target: "nope"});
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(await unknown.json())).toMatch(/body\.target/);
    const bad = await send(admin.key, {target: 42});
    expect(bad.status).toBe(422);
    expect(JSON.stringify(await bad.json())).toMatch(/body\.target/);
  });
});
