#!/usr/bin/env node
// The `fluss` command. Runs on Node >= 22.12 with TypeScript type stripping.
import "../src/main.ts";
