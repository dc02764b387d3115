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
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
    return statSync(`/proc/${pid}`).ctimeMs <= writtenMs + 1000;
  } catch {
    return true; // no /proc: trust the pid
  }
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
