// Vitest config of the fault suite (`npm run test:fault`, run by CI): seeded fault runs against a
// cluster of server processes on a real ZooKeeper (test/fault/*.fault.ts). Kept out of `npm test`
// for its length; a short smoke run (smoke.test.ts) stays in the default suite.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/fault/**/*.fault.ts"],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
