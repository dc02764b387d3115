import {defineConfig} from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // DuckDB, the Framework build and Chromium are real and slow-ish: generous per-test limits,
    // and files run one at a time on this 2-core machine so builds do not fight for CPU.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ["default"],
  },
});
