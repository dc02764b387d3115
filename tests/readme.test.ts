/** The README documents the raw data contract exactly as the code enforces it. */
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {readmeWithContract} from "../loaders/cli/contract.ts";

describe("README", () => {
  it("holds the current raw data contract (run `npm run contract -- --write` after changing it)", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readmeWithContract(readme)).toBe(readme);
  });
  it("shows the run and test commands", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toMatch(/npm ci/);
    expect(readme).toMatch(/npm start/);
    expect(readme).toMatch(/npm test/);
  });
});
