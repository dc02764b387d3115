/**
 * Temporary siblings of what a command writes: `<final>.tmp-<pid>` while it is being written,
 * `<final>.old-<pid>` for the moment of a swap. A command that exits normally removes its own;
 * one that is killed (SIGKILL, OOM, a closed laptop) cannot, so the next one removes those whose
 * owner is gone — five killed builds had left 223 MB of warehouse and site copies behind.
 */
import {readdirSync, readFileSync, rmSync, statSync} from "node:fs";
import {basename, dirname, join} from "node:path";

/** Where this process writes `final` before swapping it in. */
export function tempPathFor(final: string): string {
  return `${final}.tmp-${process.pid}`;
}

/**
 * Whether the process that named a temp file `pid` may still be writing it. A pid the kernel has
 * since given to a newer process is not the owner: that process started after the file was last
 * written (Linux: /proc/<pid> is as old as the process).
 */
export function ownerAlive(pid: number, writtenMs: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive, owned by another user
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // a zombie (killed, not yet reaped: containers often run no init to reap) writes nothing
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the fields after "(comm)": state is the first, starttime (field 22 of the line) the 20th
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return false;
    return bootMs() + (Number(fields[19]) * 1000) / USER_HZ <= writtenMs + 2000;
  } catch {
    return true; // no /proc: trust the pid
  }
}

/**
 * Linux reports a process's start in clock ticks since boot; USER_HZ is 100 on every architecture
 * Node runs on. (Not the ctime of /proc/<pid>: that is when the kernel first built the inode —
 * often when someone first looked — so a live owner could look newer than its own file.)
 */
const USER_HZ = 100;
let boot: number | undefined;
function bootMs(): number {
  boot ??= Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))![1]) * 1000;
  return boot;
}

/** Removes `<final>.tmp-<pid>…` and `<final>.old-<pid>…` siblings whose owner is gone; returns their names. */
export function removeStaleTemps(final: string): string[] {
  const dir = dirname(final);
  const base = basename(final);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^\.(?:tmp|old)-(\d+)(?:\..*)?$/.exec(name.slice(base.length));
    if (!m) continue;
    const path = join(dir, name);
    let writtenMs: number;
    try {
      writtenMs = statSync(path).mtimeMs;
    } catch {
      continue; // removed meanwhile
    }
    if (ownerAlive(Number(m[1]), writtenMs)) continue;
    rmSync(path, {recursive: true, force: true});
    removed.push(name);
  }
  return removed;
}
