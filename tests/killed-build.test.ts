/**
 * A build killed with SIGKILL cannot clean up after itself: the next build removes the temporary
 * warehouse and site copies whose owner is gone, and never one a running process may still own.
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {afterAll, describe, expect, it} from "vitest";
import {ownerAlive, removeStaleTemps} from "../loaders/temp-files.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, {recursive: true, force: true});
});

function scratch(): string {
  const d = mkdtempSync(path.join(tmpdir(), "saasguard-killed-"));
  dirs.push(d);
  return d;
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

/** A process that stays alive until the test ends. */
function livePid(): number {
  const c = spawn("sleep", ["300"], {stdio: "ignore"});
  children.push(c);
  return c.pid!;
}

function build(cwd: string): ChildProcess {
  return spawn(TSX, [path.join(ROOT, "loaders/cli/build.ts"), "--customers", "200", "--no-site"], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function waitFor(check: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("leftovers of killed builds", () => {
  it("a build killed with SIGKILL leaves its temp warehouse; the next build removes it and every other orphan, not a live one", async () => {
    const dir = scratch();
    const data = path.join(dir, "data");
    const killed = build(dir);
    let said = "";
    killed.stdout!.on("data", (b: Buffer) => (said += b));
    killed.stderr!.on("data", (b: Buffer) => (said += b));
    await waitFor(() => {
      // a build that ended before it could be killed is a failure to explain, not a timeout
      if (killed.exitCode !== null)
        throw new Error(`the build exited (${killed.exitCode}) before it was killed:\n${said}`);
      return existsSync(data) && readdirSync(data).some((n) => n.startsWith("warehouse.duckdb.tmp-"));
    });
    process.kill(-killed.pid!, "SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    const left = readdirSync(data).filter((n) => n.startsWith("warehouse.duckdb.tmp-"));
    expect(left.length).toBeGreaterThan(0);
    // what other kills leave: a site copy being written, one being swapped out, a WAL
    const dead = deadPid();
    mkdirSync(path.join(dir, `dist.tmp-${dead}.tmp-${dead}`, "_file"), {recursive: true});
    mkdirSync(path.join(dir, `dist.old-${dead}`));
    writeFileSync(path.join(data, `warehouse.duckdb.tmp-${dead}.wal`), "x");
    // a build still running elsewhere: its temp must survive
    const live = livePid();
    writeFileSync(path.join(data, `warehouse.duckdb.tmp-${live}`), "in use");
    // an unrelated file that only looks similar stays too
    writeFileSync(path.join(data, "warehouse.duckdb.tmp-notes.txt"), "mine");

    const next = build(dir);
    let out = "";
    next.stdout!.on("data", (b: Buffer) => (out += b));
    next.stderr!.on("data", (b: Buffer) => (out += b));
    const code = await new Promise((r) => next.once("exit", r));
    expect(code, out).toBe(0);
    expect(out).toMatch(/removed \d+ leftover\(s\) of builds that were killed/);
    // (the operational store beside the warehouse is the CSMs' work, never a leftover)
    expect(
      readdirSync(data)
        .filter((n) => !n.startsWith("operational.sqlite"))
        .sort(),
    ).toEqual(["warehouse.duckdb", `warehouse.duckdb.tmp-${live}`, "warehouse.duckdb.tmp-notes.txt"].sort());
    expect(readdirSync(dir).filter((n) => n.startsWith("dist"))).toEqual([]);
  }, 120_000);

  it("a pid given to a newer process since the file was written does not make it owned", () => {
    const dir = scratch();
    const live = livePid();
    const file = path.join(dir, `warehouse.duckdb.tmp-${live}`);
    writeFileSync(file, "x");
    expect(ownerAlive(live, Date.now())).toBe(true);
    expect(removeStaleTemps(path.join(dir, "warehouse.duckdb"))).toEqual([]);
    // the same name, last written an hour before that process started
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(file, hourAgo, hourAgo);
    expect(removeStaleTemps(path.join(dir, "warehouse.duckdb"))).toEqual([`warehouse.duckdb.tmp-${live}`]);
    // this process's own temp is never stale
    writeFileSync(path.join(dir, `warehouse.duckdb.tmp-${process.pid}`), "x");
    expect(removeStaleTemps(path.join(dir, "warehouse.duckdb"))).toEqual([]);
  });
});
