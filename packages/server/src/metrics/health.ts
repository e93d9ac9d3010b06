// /health on `metrics.port`: 200 when the server is serving and registered (a tablet server whose
// registration is live, in ZooKeeper or by heartbeat; the active coordinator), 503 otherwise (a
// standby coordinator, a tablet server whose session ended, a server stopping), with a small JSON
// body a probe or a person can read: {"status":"ok"|"unavailable","role":...,"serving":...,
// "registered":...,"detail"?:...}.
// Invariant: a health check is a synchronous read of state the server keeps anyway; it never
// throws into the HTTP server (a throwing check answers 503 with its message).

/** What a server says about itself, read at each request. */
export interface HealthReport {
  /** "coordinator", "tablet-server", "local" (a whole local cluster). */
  readonly role: string;
  /** Its RPC listener is up and it answers requests (an active coordinator; a started tablet server). */
  readonly serving: boolean;
  /** The cluster knows it as a member (registered in ZooKeeper or by heartbeat; elected). */
  readonly registered: boolean;
  /** Why not, when it is not healthy; or a short state note. */
  readonly detail?: string;
}

export type HealthCheck = () => HealthReport;

/** The status code and JSON body /health answers for `check`. */
export function healthAnswer(check: HealthCheck): { status: 200 | 503; body: string } {
  let r: HealthReport;
  try {
    r = check();
  } catch (err) {
    r = { role: "unknown", serving: false, registered: false, detail: (err as Error).message };
  }
  const ok = r.serving && r.registered;
  const body = {
    status: ok ? "ok" : "unavailable",
    role: r.role,
    serving: r.serving,
    registered: r.registered,
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
  };
  return { status: ok ? 200 : 503, body: `${JSON.stringify(body)}\n` };
}
