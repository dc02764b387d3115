// Works around npm 11's lockfile bug (npm/cli#9846, #4828): when a platform-specific optional
// dependency (rollup's and DuckDB's native builds for other platforms) cannot be fetched from
// the registry this machine reaches, `npm install` leaves it out of package-lock.json and
// `npm ci` then refuses the lockfile as "out of sync". This adds the missing entries with the
// version the parent pins and the os/cpu/libc its name encodes, so `npm ci` skips them as
// foreign platforms. Run after `npm install` changed the lockfile: `node scripts/complete-lockfile.mjs`.
import {execSync} from "node:child_process";
import {readFileSync, writeFileSync} from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const out = execSync("npm ci --dry-run --no-audit --no-fund 2>&1 || true").toString();
const missing = out
  .split("\n")
  .filter((l) => l.includes("Missing: "))
  .map((l) => l.split("Missing: ")[1].replace(/@[^@]* from lock file$/, ""));
const pk = lock.packages;
for (const name of missing) {
  const parent = Object.values(pk).find((v) => v.optionalDependencies?.[name]);
  if (!parent) throw new Error(`${name}: no package in the lockfile lists it as an optional dependency`);
  const [os, cpu, abi] = name
    .split("/")
    .pop()
    .replace(/^(rollup|node-bindings)-/, "")
    .split("-");
  const entry = {version: parent.optionalDependencies[name], cpu: [cpu], os: [os], optional: true};
  if (parent.dev) entry.dev = true;
  if (abi === "musl") entry.libc = ["musl"];
  else if (abi?.startsWith("gnu")) entry.libc = ["glibc"];
  pk[`node_modules/${name}`] = entry;
}
lock.packages = Object.fromEntries(
  Object.entries(pk).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: added ${missing.length} optional platform entr${missing.length === 1 ? "y" : "ies"}`);
