#!/usr/bin/env node
// The `fluss` command. Runs on Node >= 22.12 (TypeScript type stripping); the compile cache keeps
// the start of every later invocation fast.
import { enableCompileCache } from "node:module";

enableCompileCache?.();
await import("../src/main.ts");
