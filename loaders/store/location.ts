/**
 * Which store a command uses when it is not told: SAASGUARD_STORE when set, else the SQLite file
 * beside the warehouse (data/operational.sqlite for data/warehouse.duckdb), so a build or test
 * with a warehouse of its own also gets a store of its own.
 */
import path from "node:path";

export function storeSettingFor(
  warehousePath: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const set = env.SAASGUARD_STORE?.trim();
  if (set) return set;
  return `sqlite:${path.join(path.dirname(warehousePath), "operational.sqlite")}`;
}
