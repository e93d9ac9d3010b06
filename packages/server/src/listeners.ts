// Fluss's listener syntax (`bind.listeners`, `advertised.listeners`): a comma-separated list of
// `NAME://host:port`, names unique, e.g. `FLUSS://0.0.0.0:9123`. A server binds the listener named
// by `internal.listener.name` (Fluss's default FLUSS), or the first when only one is given.
// Invariant: what `parseListeners` returns has unique names, a non-empty host and a port in
// [0, 65535] (0: any free port); anything else is an INVALID_CONFIG_EXCEPTION naming the text.

import { Errors, FlussError } from "@fluss-ts/common";

export interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** Fluss's ConfigOptions.DEFAULT_LISTENER_NAME. */
export const DEFAULT_LISTENER_NAME = "FLUSS";

const LISTENER = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/;

export function parseListeners(text: string): Listener[] {
  const out: Listener[] = [];
  for (const part of text.split(",").map((s) => s.trim())) {
    const m = LISTENER.exec(part);
    const port = m ? Number(m[3]) : -1;
    if (!m || port > 65535) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `listener '${part}' is not NAME://host:port (e.g. FLUSS://127.0.0.1:9123)`,
      );
    }
    const name = m[1]!.toUpperCase();
    if (out.some((l) => l.name === name)) {
      throw new FlussError(
        Errors.INVALID_CONFIG_EXCEPTION,
        `listener name '${name}' is given twice in '${text}'`,
      );
    }
    out.push({ name, host: m[2]!.replace(/^\[|\]$/g, ""), port });
  }
  return out;
}

/** The listener a server binds: the internal one by name, else the only one. */
export function internalListener(listeners: readonly Listener[], name = DEFAULT_LISTENER_NAME): Listener {
  const found =
    listeners.find((l) => l.name === name.toUpperCase()) ??
    (listeners.length === 1 ? listeners[0] : undefined);
  if (!found) {
    throw new FlussError(
      Errors.INVALID_CONFIG_EXCEPTION,
      `no listener named '${name}' among ${listeners.map((l) => l.name).join(", ")} ('internal.listener.name')`,
    );
  }
  return found;
}

/** `host:port` (an address given directly, e.g. `coordinator.address`). */
export function parseHostPort(text: string): { host: string; port: number } {
  const t = text.trim();
  const i = t.lastIndexOf(":");
  const port = i > 0 ? Number(t.slice(i + 1)) : Number.NaN;
  const host = i > 0 ? t.slice(0, i).replace(/^\[|\]$/g, "") : "";
  if (host === "" || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `'${text}' is not host:port`);
  }
  return { host, port };
}
