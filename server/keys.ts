/**
 * `npm run api:key -- NAME [read|csm|lead|admin]`: makes a new random API key, prints it once, and prints
 * the API_KEYS entry that stores only its sha256 hash. Put the entry in the server's
 * environment (comma-separate several), give the key to the client, and keep no copy of the key.
 */
import {ROLES, type Role} from "./api/settings.ts";
import {newApiKey} from "./api/security.ts";
import {parseCommandArgs, runCommand, UsageError} from "../loaders/cli/command.ts";

const USAGE = `usage: npm run api:key -- NAME [${ROLES.join("|")}]   (NAME: 1–64 letters, digits, _ . -)`;

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

await runCommand({name: "api:key", usage: USAGE}, async () => {
  const {positionals} = parseCommandArgs({options: {}, strict: true, allowPositionals: true});
  if (positionals.length > 2) throw new UsageError(`expected NAME [ROLE], got ${positionals.length} arguments`);
  const [name = "", role = "read"] = positionals;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new UsageError(`NAME "${name}" is not 1–64 letters, digits, _ . -`);
  if (!isRole(role)) throw new UsageError(`role "${role}" is not one of ${ROLES.join(", ")}`);
  const {key, entry} = newApiKey(name, role);
  console.log(`API key for "${name}" (${role}) — give it to the client; it is not stored anywhere:\n  ${key}\n`);
  console.log(`Add this entry to API_KEYS on the server (only the sha256 hash is kept):\n  ${entry}`);
});
