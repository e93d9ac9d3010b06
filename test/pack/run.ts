// `npm run test:pack` (run by CI): the packages as users get them. Builds and packs every package
// (`npm run pack:all`), serves the tarballs from a throwaway @fluss-ts registry, then on Node 22
// (the oldest supported, from the `node` npm package) and on the repo's Node 24, in a fresh
// directory outside the repository (no access to its node_modules, npm_* and NODE_OPTIONS removed):
//  1. `npm install -g @fluss-ts/cli` into its own prefix (no npm warning), `fluss --version`, then
//     `fluss local` from it;
//  2. a new project `npm install @fluss-ts/client` (plus typescript, @types/node, apache-arrow),
//     which must print no npm warning and not bring a storage engine (no lmdb, no @fluss-ts/server);
//  3. type-checks app.ts and the examples with `tsc --strict` (TypeScript 7, the repo's, and 5.9);
//  4. runs app.mjs, app.ts (type stripping) and every examples/*.ts against that `fluss local`,
//     then `fluss consume` of what app.mjs wrote, then stops `fluss local` with SIGINT (exit 0).
// Any failure prints the step, the command and its output, and exits 1. KEEP=1 keeps the temp dirs.

import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { REPO_ROOT } from "../../tools/build.ts";
import { type Packed, packAll } from "../../tools/pack.ts";
import { type ScopeRegistry, startScopeRegistry } from "./registry.ts";

/** The oldest Node the packages support (engines), installed from npm's `node` package. */
const NODE22_VERSION = "22.15.0";
const STEP_TIMEOUT_MS = 300_000;
const HERE = import.meta.dirname;

interface Runtime {
  readonly label: string;
  readonly node: string;
  /** Flags Node needs to run a .ts file (type stripping is unflagged from 22.18 / 23.6). */
  readonly tsFlags: readonly string[];
}

class StepError extends Error {}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The environment of a user's shell: no npm run variables, no repo node_modules on PATH. */
function userEnv(nodeBin: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === "NODE_OPTIONS" || k === "NODE_PATH" || k === "INIT_CWD") continue;
    env[k] = v;
  }
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p && !p.startsWith(REPO_ROOT));
  env.PATH = [dirname(nodeBin), ...path].join(delimiter);
  return { ...env, ...extra };
}

/** Runs a command to completion (asynchronously: the registry is served by this process). */
function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; noWarnings?: boolean },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? STEP_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new StepError(`${cmd} ${args.join(" ")}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const warned = opts.noWarnings === true && /\bwarn/i.test(err);
      if (code === 0 && !warned) resolve(out);
      else
        reject(
          new StepError(`${cmd} ${args.join(" ")} (in ${opts.cwd}): exit ${code ?? signal}\n${out}\n${err}`),
        );
    });
  });
}

/** Node 22 from the `node` npm package, cached under node_modules/.cache (npm ci clears it). */
async function node22(): Promise<string> {
  const dir = join(REPO_ROOT, "node_modules", ".cache", "fluss-ts-pack", `node-${NODE22_VERSION}`);
  const bin = join(dir, "node_modules", "node", "bin", "node");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const pkg = { private: true, dependencies: { node: NODE22_VERSION }, allowScripts: { node: true } };
    writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      env: userEnv(process.execPath),
    });
  }
  const version = (await run(bin, ["--version"], { cwd: dir, env: userEnv(bin) })).trim();
  if (version !== `v${NODE22_VERSION}`) throw new StepError(`${bin} is ${version}, not v${NODE22_VERSION}`);
  return bin;
}

interface Fluss {
  readonly bootstrap: string;
  stop(): Promise<number | null>;
}

async function startFluss(bin: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<Fluss> {
  const child: ChildProcess = spawn(
    bin,
    ["local", "--data-dir", dataDir, "--port", "0", "--log-level", "warn"],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new StepError(`fluss local did not start in 60 s: ${out}${err}`)),
      60_000,
    );
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /bootstrap:\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new StepError(`fluss local exited with ${code}: ${out}${err}`));
    });
  });
  return {
    bootstrap,
    stop: async () => {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new StepError(`fluss local stopped with exit ${code}: ${err}`);
      return code;
    },
  };
}

async function repoVersionOf(dep: string): Promise<string> {
  const out = await run("npm", ["pkg", "get", `devDependencies.${dep}`], {
    cwd: REPO_ROOT,
    env: process.env,
  });
  return JSON.parse(out) as string;
}

/** Installs the SDK into a new project; returns its directory. */
async function installApp(root: string, registry: ScopeRegistry, env: NodeJS.ProcessEnv): Promise<string> {
  const app = join(root, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    '{ "name": "fluss-pack-app", "private": true, "type": "module" }\n',
  );
  writeFileSync(join(app, ".npmrc"), `@fluss-ts:registry=${registry.url}\n`);
  const deps = [
    "@fluss-ts/client@0.1.0",
    "apache-arrow@^21.2.0",
    `typescript@${await repoVersionOf("typescript")}`,
    "typescript-5@npm:typescript@~5.9",
    `@types/node@${await repoVersionOf("@types/node")}`,
  ];
  await run("npm", ["install", "--no-audit", "--no-fund", ...deps], { cwd: app, env, noWarnings: true });
  for (const forbidden of ["lmdb", "@fluss-ts/server", "@fluss-ts/storage"]) {
    if (existsSync(join(app, "node_modules", forbidden))) {
      throw new StepError(`installing @fluss-ts/client brought ${forbidden}: the SDK must not need it`);
    }
  }
  for (const f of ["app.mjs", "app.ts", "tsconfig.json"]) cpSync(join(HERE, "app", f), join(app, f));
  const examples = join(REPO_ROOT, "examples");
  if (existsSync(examples)) cpSync(examples, join(app, "examples"), { recursive: true });
  return app;
}

function examplesIn(app: string): string[] {
  const dir = join(app, "examples");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => join("examples", f));
}

/** The whole check on one Node; `cliVersion` is what the installed `fluss --version` must print. */
async function checkOn(rt: Runtime, registry: ScopeRegistry, cliVersion: string): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `fluss-pack-${rt.label}-`));
  if (root.startsWith(REPO_ROOT)) throw new StepError(`temp dir ${root} is inside the repository`);
  const env = userEnv(rt.node);
  let fluss: Fluss | undefined;
  try {
    const t0 = performance.now();
    const step = (what: string): void =>
      log(`  [${rt.label}] ${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const prefix = join(root, "global");
    await run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        `--@fluss-ts:registry=${registry.url}`,
        "--allow-scripts=lmdb,msgpackr-extract", // as the README says: the storage engine's prebuilt binaries
        "--no-audit",
        "--no-fund",
        "@fluss-ts/cli",
      ],
      { cwd: root, env, noWarnings: true },
    );
    step("npm install -g @fluss-ts/cli");
    const bin = join(prefix, "bin", "fluss");
    const version = (await run(bin, ["--version"], { cwd: root, env })).trim();
    if (!version.includes(cliVersion)) throw new StepError(`fluss --version printed "${version}"`);
    fluss = await startFluss(bin, join(root, "data"), env);
    step(`fluss local (global install) at ${fluss.bootstrap}`);
    const app = await installApp(root, registry, env);
    step("npm install @fluss-ts/client in a new project (no lmdb, no server)");
    const tsc7 = join(app, "node_modules", "typescript", "bin", "tsc");
    const tsc5 = join(app, "node_modules", "typescript-5", "bin", "tsc");
    for (const tsc of [tsc7, tsc5]) await run(rt.node, [tsc, "-p", "."], { cwd: app, env });
    step(`tsc --strict (TypeScript 7 and 5.9): app.ts + ${examplesIn(app).length} examples`);
    const appEnv = userEnv(rt.node, { FLUSS_BOOTSTRAP: fluss.bootstrap });
    log(`    ${(await run(rt.node, ["app.mjs"], { cwd: app, env: appEnv })).trim()}`);
    log(`    ${(await run(rt.node, [...rt.tsFlags, "app.ts"], { cwd: app, env: appEnv })).trim()}`);
    for (const example of examplesIn(app)) {
      await run(rt.node, [...rt.tsFlags, example], { cwd: app, env: appEnv });
      log(`    ok: ${example}`);
    }
    const consumed = await run(
      bin,
      ["--bootstrap", fluss.bootstrap, "consume", "pack.events_mjs", "--limit", "3"],
      {
        cwd: root,
        env,
      },
    );
    if (consumed.trim().split("\n").length !== 3) throw new StepError(`fluss consume printed:\n${consumed}`);
    step("app.mjs, app.ts, examples, fluss consume");
    await fluss.stop();
    fluss = undefined;
    step("fluss local stopped (exit 0)");
  } finally {
    if (fluss) await fluss.stop().catch(() => undefined);
    if (process.env.KEEP) log(`  kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  log("== build and pack");
  const packed: Packed[] = packAll();
  const cli = packed.find((p) => p.name === "@fluss-ts/cli");
  if (!cli) throw new StepError("no @fluss-ts/cli package was packed");
  const cliVersion = (JSON.parse(cli.manifest) as { version: string }).version;
  for (const p of packed) log(`  ${p.tarball}`);
  const registry = await startScopeRegistry(new Map(packed.map((p) => [p.tarball, p.manifest])));
  try {
    const runtimes: Runtime[] = [
      {
        label: `node${NODE22_VERSION}`,
        node: await node22(),
        tsFlags: ["--experimental-strip-types", "--no-warnings"],
      },
      { label: `node${process.versions.node}`, node: process.execPath, tsFlags: [] },
    ];
    for (const rt of runtimes) {
      log(`== ${rt.label}: install from the packed tarballs, outside the repository`);
      await checkOn(rt, registry, cliVersion);
    }
  } finally {
    await registry.close();
  }
  log("== pack test passed");
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pack test failed: ${err instanceof StepError ? err.message : (err as Error).stack}\n`,
  );
  process.exit(1);
});
