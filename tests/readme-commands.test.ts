/**
 * Every command the README shows works when followed. The commands run for real, as `npm run …`
 * in a scratch copy of the project (its folders linked, its own data/ and dist/), so nothing
 * touches the checkout's warehouse or site. One build of a small portfolio serves `npm start`,
 * `npm run api`, `npm run dev`, `npm run train` and `npm run score`.
 *
 * Each `npm …` command is recorded when it runs; the last test checks that every command the
 * README shows ran. Three are checked another way, each for a stated reason: `npm test` (this
 * suite itself), `npm ci` and `npm run typecheck` (CI's own steps, asserted in `.ci/run`).
 * `npm run bench` runs its `--help` and an option check only: a real run is minutes of load on
 * purpose (its figures are quoted in the README).
 */
import {spawn, type ChildProcess} from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, openWarehouse} from "../loaders/duckdb.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
/** The scripts the README shows as `npm run <script>`, and whether it shows npm start / test / ci. */
const README_SCRIPTS = [...new Set([...README.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1]!))];
const CI = readFileSync(path.join(ROOT, ".ci/run"), "utf8");
const SCRIPTS = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {scripts: Record<string, string>})
  .scripts;

let dir: string;

/** The commands run so far: "start", "test", or a script name for `npm run <script>`. */
const ran = new Set<string>();
const record = (args: string[]) => ran.add(args[0] === "run" ? args[1]! : args[0]!);

interface Run {
  code: number | null;
  out: string;
}

function npm(args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir): Promise<Run> {
  record(args);
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["--silent", ...args], {cwd, env: {...process.env, ...env}});
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({code, out}));
  });
}

/** Starts a long-running command, waits until its output matches `ready`, returns the match. */
function serve(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<{child: ChildProcess; match: RegExpMatchArray}> {
  record(args);
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["--silent", ...args], {cwd: dir, env: {...process.env, ...env}, detached: true});
    let out = "";
    const timer = setTimeout(() => {
      stop(child);
      reject(new Error(`npm ${args.join(" ")} did not start:\n${out}`));
    }, 90_000);
    const onData = (d: Buffer) => {
      // without the terminal colours some tools add even when not on a terminal (CI=true)
      out += d.toString().replace(/\x1b\[[0-9;]*m/g, "");
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({child, match: m});
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm ${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Stops a started command and everything it spawned (npm → tsx → node). */
function stop(child: ChildProcess): void {
  child.removeAllListeners("exit");
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "saasguard-readme-"));
  for (const f of ["loaders", "server", "models", "node_modules", "observablehq.config.ts", "tsconfig.json"])
    symlinkSync(path.join(ROOT, f), path.join(dir, f));
  // src/ by its entries, but its own reports/ folder: `npm run report:new` writes there, not into the checkout
  mkdirSync(path.join(dir, "src", "reports"), {recursive: true});
  for (const f of readdirSync(path.join(ROOT, "src")))
    if (f !== "reports") symlinkSync(path.join(ROOT, "src", f), path.join(dir, "src", f));
  for (const f of readdirSync(path.join(ROOT, "src", "reports")))
    writeFileSync(path.join(dir, "src", "reports", f), readFileSync(path.join(ROOT, "src", "reports", f)));
  writeFileSync(path.join(dir, "package.json"), readFileSync(path.join(ROOT, "package.json")));
  mkdirSync(path.join(dir, "data"));
  // the build the other commands use: a small portfolio, through dist/
  const r = await npm(["run", "build", "--", "--customers", "200", "--as-of", "2026-06-30"]);
  expect(r.code, r.out).toBe(0);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true});
});

describe("README commands", () => {
  it("every `npm run` the README names is a script of package.json", () => {
    expect(README_SCRIPTS.length).toBeGreaterThan(10);
    for (const name of README_SCRIPTS) expect(SCRIPTS[name], `README names npm run ${name}`).toBeDefined();
  });

  it("npm run build wrote the warehouse and the site; a wrong option is a usage error (exit 2)", async () => {
    expect(existsSync(path.join(dir, "data/warehouse.duckdb"))).toBe(true);
    expect(existsSync(path.join(dir, "dist/index.html"))).toBe(true);
    const bad = await npm(["run", "build", "--", "--customers", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--customers: "many" is not a whole number/);
    expect(bad.out).toMatch(/usage: npm run build/);
    expect((await npm(["run", "build", "--", "--help"])).out).toMatch(/^usage: npm run build -- \[--as-of/);
  });

  it("npm run build -- --source files --raw-dir DIR --no-site: bad data fails (exit 1) and changes nothing", async () => {
    const raw = path.join(dir, "raw-bad");
    expect(
      (await npm(["run", "generate", "--", "--out", raw, "--customers", "30", "--as-of", "2026-06-30"])).code,
    ).toBe(0);
    const customers = path.join(raw, "customers.csv");
    const [header, first, ...rest] = readFileSync(customers, "utf8").split("\n");
    const arr = header!.split(",").indexOf("arr");
    const cells = first!.split(",");
    cells[arr] = "-5";
    writeFileSync(customers, [header, cells.join(","), ...rest].join("\n"));
    const warehouse = path.join(dir, "data/warehouse.duckdb");
    const before = readFileSync(warehouse);
    const r = await npm([
      "run",
      "build",
      "--",
      "--source",
      "files",
      "--raw-dir",
      raw,
      "--no-site",
      "--as-of",
      "2026-06-30",
    ]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/customers\.csv:2 column "arr"/);
    expect(r.out).toContain("(nothing was changed: the previous warehouse and site are intact)");
    expect(r.out).not.toMatch(/usage:/);
    expect(readFileSync(warehouse).equals(before)).toBe(true);
  }, 60_000);

  it("npm start serves the site and the API of that build", async () => {
    const {child, match} = await serve(["start"], /SaaSGuard API: (http:\/\/\S+?)\/? /, {
      SITE_PORT: "0",
      API_PORT: "0",
    });
    try {
      const api = match[1]!.replace(/\/$/, "");
      const health = (await (await fetch(`${api}/health`)).json()) as {status: string};
      expect(health.status).toBe("ok");
    } finally {
      stop(child);
    }
  }, 120_000);

  it("npm run api serves the API alone", async () => {
    const {child, match} = await serve(["run", "api"], /(http:\/\/127\.0\.0\.1:\d+)/, {
      API_PORT: "0",
      WAREHOUSE_PATH: path.join(dir, "data/warehouse.duckdb"),
      LOG_LEVEL: "warn",
    });
    try {
      expect((await fetch(`${match[1]}/health`)).status).toBe(200);
      expect((await fetch(`${match[1]}/docs`)).status).toBe(200);
    } finally {
      stop(child);
    }
  }, 120_000);

  it("npm run report:new -- NAME starts a report in src/reports/; an existing one is never overwritten", async () => {
    const r = await npm(["run", "report:new", "--", "Renewal risk by region"]);
    expect(r.code, r.out).toBe(0);
    const file = path.join(dir, "src", "reports", "renewal-risk-by-region.md");
    expect(readFileSync(file, "utf8")).toMatch(/^---\ntitle: "Renewal risk by region"\n/);
    const again = await npm(["run", "report:new", "--", "Renewal risk by region"]);
    expect(again.code).toBe(1);
    expect(again.out).toContain("renewal-risk-by-region.md");
  }, 60_000);

  it("npm run dev previews the pages live, the new report in the sidebar", async () => {
    const {child, match} = await serve(["run", "dev", "--", "--port", String(await freePort())], /↳ (http:\/\/\S+)/);
    try {
      const html = await (await fetch(match[1]!)).text();
      expect(html).toContain("Executive overview");
      expect(html).toContain('href="./reports/renewal-risk-by-region"');
      expect((await fetch(new URL("reports/renewal-risk-by-region", match[1]!))).status).toBe(200);
    } finally {
      stop(child);
    }
  }, 120_000);

  it("npm run generate -- --out DIR writes one file per raw table; a wrong option exits 2", async () => {
    const out = path.join(dir, "example");
    const r = await npm(["run", "generate", "--", "--out", out, "--customers", "40"]);
    expect(r.code, r.out).toBe(0);
    expect(readdirSync(out).sort()).toContain("customers.csv");
    const wrong = await npm(["run", "generate", "--", "--out", path.join(dir, "example-wrong"), "--bogus"]);
    expect(wrong.code).toBe(2);
    expect(existsSync(path.join(dir, "example-wrong"))).toBe(false);
  }, 120_000);

  it("npm run contract prints the raw data contract", async () => {
    const r = await npm(["run", "contract"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("#### raw.customers");
    const wrong = await npm(["run", "contract", "--", "--wirte"]);
    expect(wrong.code).toBe(2);
    expect(wrong.out).toMatch(/usage: npm run contract/);
  });

  it("npm run api:key -- crm read prints a key and its API_KEYS entry", async () => {
    const r = await npm(["run", "api:key", "--", "crm", "read"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/crm:read:[0-9a-f]{64}/);
    const wrong = await npm(["run", "api:key", "--", "crm", "root"]);
    expect(wrong.code).toBe(2);
    expect(wrong.out).toMatch(/role "root" is not one of read, csm, lead, admin\n.*usage: npm run api:key/s);
  });

  it("npm run train and npm run score on a table of the user's", async () => {
    const table = path.join(dir, "accounts.csv");
    const lines = ["account,logins,tickets,churned"];
    for (let i = 0; i < 400; i++) {
      const logins = (i * 37) % 100;
      lines.push(`A${i},${logins},${(i * 13) % 7},${logins < 30 && i % 3 !== 0 ? 1 : 0}`);
    }
    writeFileSync(table, lines.join("\n") + "\n");
    const model = path.join(dir, "custom-model");
    const t = await npm([
      "run",
      "train",
      "--",
      "--table",
      table,
      "--id",
      "account",
      "--label",
      "churned",
      "--out",
      model,
    ]);
    expect(t.code, t.out).toBe(0);
    const scored = path.join(dir, "scored.csv");
    const s = await npm(["run", "score", "--", "--table", table, "--id", "account", "--model", model, "--out", scored]);
    expect(s.code, s.out).toBe(0);
    expect(readFileSync(scored, "utf8").split("\n")[0]).toMatch(/^account,/);
  }, 180_000);

  it("npm run health:tune proposes without changing anything; --apply adopts it and the next build scores with it", async () => {
    // a copy of the shipped file: src/ here is the repository's own
    const file = path.join(dir, "health-score.json");
    copyFileSync(path.join(ROOT, "src/rules/health-score.json"), file);
    const before = readFileSync(file, "utf8");
    const p = await npm(["run", "health:tune", "--", "--weights-only", "--file", file]);
    expect(p.code, p.out).toBe(0);
    expect(p.out).toMatch(/ROC-AUC current → proposed/);
    expect(p.out).toMatch(/nothing changed: run with --apply/);
    expect(readFileSync(file, "utf8")).toBe(before);
    const a = await npm(["run", "health:tune", "--", "--weights-only", "--no-segments", "--apply", "--file", file]);
    expect(a.code, a.out).toBe(0);
    const applied = JSON.parse(readFileSync(file, "utf8")) as {components: Record<string, {weight: number}>};
    expect(applied).toEqual(JSON.parse(readFileSync(path.join(dir, "data/health-score.proposed.json"), "utf8")));
    const b = await npm(["run", "build", "--", "--customers", "200", "--as-of", "2026-06-30", "--no-site"], {
      SAASGUARD_HEALTH_SCORE: file,
    });
    expect(b.code, b.out).toBe(0);
    const w = await openWarehouse(path.join(dir, "data/warehouse.duckdb"), {readOnly: true});
    try {
      const rows = await all<{input: string; configured_weight: number; segment: string | null}>(
        w.conn,
        "SELECT input, configured_weight, segment FROM marts.int_score_weights WHERE score = 'health'",
      );
      expect(rows.every((r) => r.segment === null)).toBe(true);
      for (const r of rows) expect(r.configured_weight).toBeCloseTo(applied.components[r.input]!.weight, 9);
    } finally {
      w.close();
    }
  }, 300_000);

  it("npm run alerts with nothing configured delivers nothing and says so", async () => {
    const r = await npm([
      "run",
      "alerts",
      "--",
      "--outbox",
      path.join(dir, "outbox"),
      "--warehouse",
      path.join(dir, "data/warehouse.duckdb"),
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/no webhook targets configured/);
  }, 60_000);

  it("npm run format rewrites a file Prettier's way; npm run format:check passes on the tree", async () => {
    // format on a scratch folder of its own (on the checkout it would rewrite others' work)
    const fmt = mkdtempSync(path.join(os.tmpdir(), "saasguard-format-"));
    try {
      symlinkSync(path.join(ROOT, "node_modules"), path.join(fmt, "node_modules"));
      for (const f of ["package.json", ".prettierrc.json", ".prettierignore"])
        writeFileSync(path.join(fmt, f), readFileSync(path.join(ROOT, f)));
      writeFileSync(path.join(fmt, "x.ts"), "const a = { b:1 }");
      expect((await npm(["run", "format:check"], {}, fmt)).code).toBe(1);
      expect((await npm(["run", "format"], {}, fmt)).code).toBe(0);
      expect(readFileSync(path.join(fmt, "x.ts"), "utf8")).toBe("const a = {b: 1};\n");
    } finally {
      rmSync(fmt, {recursive: true, force: true});
    }
    // on the checkout itself: the scratch copy holds links, not the tree
    const f = await npm(["run", "format:check"], {}, ROOT);
    expect(f.code, f.out).toBe(0);
  }, 120_000);

  it("npm run bench knows its options (a real run is minutes of load: npm run bench is run by hand)", async () => {
    const help = await npm(["run", "bench", "--", "--help"], {}, ROOT);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: npm run bench -- \[--sizes/);
    expect((await npm(["run", "bench", "--", "--only", "everything"], {}, ROOT)).code).toBe(2);
  }, 60_000);

  it("npm run sources shows what a mapping reads, with the problems, before a build; exit 1 when the build would fail", async () => {
    const raw = path.join(dir, "raw-bad"); // written by the failing build's test above
    writeFileSync(
      path.join(raw, "sources.json"),
      JSON.stringify({folder: ".", tables: {customers: {from: "customers.csv", values: {plan_tier: {Pro: "Growth"}}}}}),
    );
    const r = await npm(["run", "sources", "--", "--mapping", path.join(raw, "sources.json"), "--as-of", "2026-06-30"]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^customers ← .*customers\.csv \(tables\.customers\): 29 rows, 1 rejected$/m);
    expect(r.out).toMatch(/^ {2}values of plan_tier: "Pro" → "Growth"$/m);
    expect(r.out).toMatch(/^ {2}freshness: newest usage \d+ day\(s\) before 2026-06-30/m);
    expect(r.out).toMatch(/raw data failed validation: 1 root cause/);
    expect(r.out).toMatch(/customers\.csv:2 column "arr" value "-5(\.0)?": must be ≥ 0/);
    const bad = await npm(["run", "sources", "--", "--mapping", path.join(raw, "nope.json")]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/nope\.json: the source mapping cannot be used:\n {2}the file does not exist/);
    expect((await npm(["run", "sources", "--", "--mapping", "a", "--raw-dir", "b"])).code).toBe(2);
  }, 60_000);

  it("the ten-minute walkthrough: vendor exports from npm run generate, npm run sources, a build through their presets", async () => {
    const vendors = path.join(dir, "vendors");
    const g = await npm([
      "run",
      "generate",
      "--",
      "--out",
      vendors,
      "--customers",
      "150",
      "--months",
      "12",
      "--as-of",
      "2026-06-30",
      "--layout",
      "salesforce,zendesk,stripe,segment",
    ]);
    expect(g.code, g.out).toBe(0);
    const mapping = path.join(vendors, "mapping.json");
    const s = await npm(["run", "sources", "--", "--mapping", mapping, "--as-of", "2026-06-30"]);
    expect(s.code, s.out).toBe(0);
    expect(s.out).toMatch(
      /^customers ← .*salesforce\/Account\.csv \(tables\.customers, preset salesforce\): 150 rows$/m,
    );
    expect(s.out).toMatch(/no problems: `npm run build -- --mapping .*mapping\.json` would read these as they are/);
    const b = await npm(["run", "build", "--", "--mapping", mapping, "--as-of", "2026-06-30", "--no-site"]);
    expect(b.code, b.out).toBe(0);
    const samples = await npm(["run", "presets:samples", "--", "--out", path.join(dir, "samples")]);
    expect(samples.code, samples.out).toBe(0);
    expect(readdirSync(path.join(dir, "samples")).sort()).toEqual(
      readdirSync(path.join(ROOT, "presets"))
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5))
        .sort(),
    );
  }, 180_000);

  it("npm run build -- --lenient quarantines the bad rows and builds", async () => {
    // last: it replaces the scratch warehouse the commands above used
    const r = await npm([
      "run",
      "build",
      "--",
      "--source",
      "files",
      "--raw-dir",
      path.join(dir, "raw-bad"),
      "--no-site",
      "--lenient",
      "--as-of",
      "2026-06-30",
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/--lenient: \d+ problem\(s\); customers: 1 row\(s\) quarantined/);
  }, 60_000);

  it("every command the README shows ran above, or is one of CI's own steps", () => {
    // npm test is this suite; npm ci and npm run typecheck are CI's steps before and beside it
    const byCi = new Set(["test", "ci", "typecheck"]);
    const shown = [
      ...README_SCRIPTS,
      ...(["start", "test", "ci"] as const).filter((c) => new RegExp(`\\bnpm ${c}\\b`).test(README)),
    ];
    expect(shown).toEqual(expect.arrayContaining(["start", "test", "ci", "build", "generate"]));
    for (const name of shown) {
      if (byCi.has(name)) {
        const cmd = name === "test" || name === "ci" ? `npm ${name}` : `npm run ${name}`;
        expect(CI, `.ci/run runs ${cmd}`).toMatch(new RegExp(`^${cmd}\\b`, "m"));
      } else expect(ran.has(name), `npm ${name === "start" ? name : `run ${name}`} ran in this file`).toBe(true);
    }
  });
});
