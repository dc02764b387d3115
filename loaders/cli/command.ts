/**
 * How every command line tool of SaaSGuard parses its arguments and ends: a mistake in how the
 * command was called is a `UsageError` (exit 2, the message and the usage line), anything else
 * is a failure of the work itself (exit 1, the message and what was left unchanged). Telling
 * them apart by type, not by the wording of a message.
 */
import {realpathSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {parseArgs, type ParseArgsConfig} from "node:util";

/** The command was called wrongly: a missing, unknown or malformed argument. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** node:util parseArgs, with its argument errors (unknown option, missing value…) as UsageErrors. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A whole number argument, or a UsageError naming the flag. */
export function intArg(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}

export interface CommandInfo {
  /** the command's name in messages, e.g. "build" */
  name: string;
  /** the usage line printed after a usage error */
  usage: string;
  /** printed after a failure: what the failure did not touch */
  unchanged?: string;
}

/** Whether the arguments ask for help (`--help` or `-h` before any `--`). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * Runs a command's main function and ends the process the same way for every command:
 * `--help` prints the usage line (exit 0); otherwise exit 0 (or the code main returns),
 * 2 on a UsageError, 1 on any other error.
 */
export async function runCommand(info: CommandInfo, main: () => Promise<number | void>): Promise<void> {
  if (asksForHelp(process.argv.slice(2))) {
    console.log(info.usage);
    return;
  }
  try {
    const code = await main();
    if (typeof code === "number") process.exitCode = code;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${info.name}: ${e.message}`);
      console.error(info.usage);
      process.exit(2);
    }
    console.error(`${info.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    if (info.unchanged) console.error(info.unchanged);
    process.exit(1);
  }
}

/**
 * Whether the module at `url` is the script Node was started with — compared as real paths, so
 * a checkout reached through a symbolic link (or a deploy directory that links to a release)
 * still runs its commands.
 */
export function isMainModule(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}
