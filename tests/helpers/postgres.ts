/**
 * A private PostgreSQL 15 cluster for tests: a fresh data directory in a temp folder, on a free
 * port of 127.0.0.1 with its unix socket in that folder, stopped and removed by stop(). Tests run
 * against the real server, not a stand-in. PostgreSQL refuses to run as root, so as root the
 * cluster runs as the `postgres` user (runuser), which owns the folder.
 */
import {execFile, execFileSync} from "node:child_process";
import {chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createServer} from "node:net";
import os from "node:os";
import path from "node:path";
import {promisify} from "node:util";
import pg from "pg";

const run = promisify(execFile);
export const PG_BIN = process.env.SAASGUARD_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication: any password is accepted) */
  url: string;
  port: number;
  /** a URL to a new, empty database in the cluster */
  newDatabase(): Promise<string>;
  /** puts a pg_hba.conf rule first (e.g. password authentication for one role) and reloads */
  requireAuth(rule: string): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const {port} = srv.address() as {port: number};
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PrivatePostgres> {
  const initdb = path.join(PG_BIN, "initdb");
  if (!existsSync(initdb))
    throw new Error(
      `PostgreSQL 15 is not installed (no ${initdb}): the store tests start a private cluster with it. ` +
        "`.ci/run` installs it (apt-get install -y postgresql); on a developer machine run that once.",
    );
  const asRoot = process.getuid?.() === 0;
  // as root: run each PostgreSQL program as the postgres user the Debian package creates
  const cmd = (program: string, args: string[]): [string, string[]] =>
    asRoot
      ? ["runuser", ["-u", "postgres", "--", path.join(PG_BIN, program), ...args]]
      : [path.join(PG_BIN, program), args];

  const dir = mkdtempSync(path.join(os.tmpdir(), "saasguard-pg-"));
  const data = path.join(dir, "data");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], {encoding: "utf8"}).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], {encoding: "utf8"}).trim());
    chownSync(dir, uid, gid);
  }
  const remove = () => rmSync(dir, {recursive: true, force: true});
  try {
    // --no-sync and fsync=off: a throwaway cluster needs no durability, and the tests run faster
    await run(...cmd("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]));
  } catch (e) {
    remove();
    throw new Error(`initdb failed in ${dir}: ${(e as {stderr?: string}).stderr ?? (e as Error).message}`);
  }

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    try {
      await run(...cmd("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]));
      break;
    } catch (e) {
      // another process may have taken the port between the probe and the start: try another
      if (attempt < 3) continue;
      const log = existsSync(path.join(dir, "log")) ? readFileSync(path.join(dir, "log"), "utf8").slice(-2000) : "";
      remove();
      throw new Error(`pg_ctl start failed on port ${port}: ${(e as Error).message}\n${log}`);
    }
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    async newDatabase() {
      const name = `t${process.pid}_${++n}`;
      const client = new pg.Client({connectionString: url});
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async requireAuth(rule: string) {
      const hba = path.join(data, "pg_hba.conf");
      writeFileSync(hba, `${rule}\n${readFileSync(hba, "utf8")}`);
      const client = new pg.Client({connectionString: url});
      await client.connect();
      try {
        await client.query("SELECT pg_reload_conf()");
      } finally {
        await client.end();
      }
    },
    async stop() {
      try {
        await run(...cmd("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]));
      } finally {
        remove();
      }
    },
  };
}
