// A server's YAML configuration file, as Fluss's `conf/server.yaml`: a mapping of option keys to
// values (`bind.listeners: FLUSS://localhost:9123`, `zookeeper.address: localhost:2181`,
// `data.dir: /var/fluss`). Nested mappings are read as dotted keys (`log: {flush: {mode: always}}`
// is `log.flush.mode`), so both styles work. Parsed with `yaml` (a maintained YAML 1.2 parser);
// values become the strings `--config key=value` would give, and the usual option checks apply
// (config.ts). Invariant: a file that is not a mapping of scalars (lists, duplicate keys, bad YAML)
// is refused with INVALID_CONFIG_EXCEPTION naming the file, never half-read.

import { readFile } from "node:fs/promises";
import { Errors, FlussError } from "@fluss-ts/common";
import { parse } from "yaml";

function invalid(file: string, message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `config file ${file}: ${message}`);
}

function flatten(file: string, value: unknown, prefix: string, out: Record<string, string>): void {
  if (value === null || value === undefined) {
    if (prefix === "") return; // an empty file
    throw invalid(file, `'${prefix}' has no value`);
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flatten(file, v, prefix === "" ? k : `${prefix}.${k}`, out);
    }
    return;
  }
  if (Array.isArray(value)) throw invalid(file, `'${prefix}' is a list; options take one value`);
  if (prefix === "") throw invalid(file, "expected a mapping of option keys to values");
  if (Object.hasOwn(out, prefix)) throw invalid(file, `'${prefix}' is given twice`);
  out[prefix] = String(value);
}

/** The option overrides a YAML file holds (unknown keys are refused later by applyServerOptions). */
export function parseServerConfigYaml(text: string, file = "<text>"): Record<string, string> {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    throw invalid(file, (err as Error).message.split("\n")[0] ?? "not YAML");
  }
  const out: Record<string, string> = {};
  flatten(file, doc, "", out);
  return out;
}

export async function loadServerConfigFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw invalid(file, `cannot read it: ${(err as Error).message}`);
  }
  return parseServerConfigYaml(text, file);
}
