// Vitest config of the interop suite (`npm run test:interop`): real Fluss clients (pyfluss, the
// Java client, fluss-rs) against `fluss local`. Kept out of `npm test`, which must run on a machine
// that reaches only npm; these tests install their clients from PyPI, Maven Central and crates.io.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/interop/**/*.interop.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: "forks",
    fileParallelism: false,
  },
});
