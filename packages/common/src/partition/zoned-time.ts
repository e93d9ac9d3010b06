// Wall-clock time in a time zone, the way java.time's ZonedDateTime behaves, for auto-partition
// names. Named IANA zones go through Intl (Node ships full ICU); fixed offsets ("+08:00",
// "GMT+8", "UTC-05:30", "Z") use plain offset math. Calendar steps (days, months, years) move the
// local date-time and then re-resolve it in the zone: a local time inside a DST gap moves forward
// by the gap's length, as ZonedDateTime does; hour steps move the instant.
// Invariants: pure apart from one cached Intl formatter per zone; never reads the process zone
// except in systemTimeZone(); calendar math is proleptic Gregorian.

import { Errors, FlussError } from "../errors.ts";
import { civilFromDays, daysFromCivil, MS_PER_DAY } from "../values/temporal.ts";

/** Local calendar fields (month 1..12). */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/** A validated zone: a fixed offset, or an Intl formatter for a named zone. */
export type ResolvedZone =
  | { readonly kind: "offset"; readonly id: string; readonly offsetMs: number }
  | { readonly kind: "named"; readonly id: string; readonly format: Intl.DateTimeFormat };

const OFFSET_RE = /^(?:(?:GMT|UTC|UT)\s*)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/i;
const zoneCache = new Map<string, ResolvedZone>();
const ZONE_CACHE_MAX = 1024;

function invalidZone(id: string, why: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `invalid time zone '${id}': ${why}`);
}

function offsetId(offsetMs: number): string {
  if (offsetMs === 0) return "UTC";
  const a = Math.abs(offsetMs) / 1000;
  const hh = String(Math.floor(a / 3600)).padStart(2, "0");
  const mm = String(Math.floor(a / 60) % 60).padStart(2, "0");
  const ss = a % 60;
  return `${offsetMs < 0 ? "-" : "+"}${hh}:${mm}${ss === 0 ? "" : `:${String(ss).padStart(2, "0")}`}`;
}

/** Resolve a zone id (IANA name, "UTC", "Z", or an offset such as "+08:00" / "GMT+8"). */
export function resolveZone(id: string): ResolvedZone {
  const cached = zoneCache.get(id);
  if (cached) return cached;
  const text = id.trim();
  let zone: ResolvedZone;
  const m = OFFSET_RE.exec(text);
  if (text === "Z" || text === "z") zone = { kind: "offset", id: "UTC", offsetMs: 0 };
  else if (m) {
    const h = Number(m[2]);
    const mi = Number(m[3] ?? 0);
    const s = Number(m[4] ?? 0);
    if (h > 18 || mi > 59 || s > 59) throw invalidZone(id, "offsets are at most ±18:00");
    const offsetMs = (m[1] === "-" ? -1 : 1) * ((h * 60 + mi) * 60 + s) * 1000;
    if (Math.abs(offsetMs) > 18 * 3_600_000) throw invalidZone(id, "offsets are at most ±18:00");
    zone = { kind: "offset", id: offsetId(offsetMs), offsetMs };
  } else {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: text,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
        era: "short",
      });
    } catch {
      throw invalidZone(id, "not a known IANA zone name (e.g. Europe/Berlin) or offset (e.g. +08:00)");
    }
    zone = { kind: "named", id: format.resolvedOptions().timeZone, format };
  }
  if (zoneCache.size >= ZONE_CACHE_MAX) zoneCache.clear();
  zoneCache.set(id, zone);
  return zone;
}

/** The zone of this process (Fluss's default for table.auto-partition.time-zone). */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
}

/** Epoch milliseconds of local fields read as UTC. */
export function localAsUtcMs(t: LocalDateTime): number {
  const days = daysFromCivil(t.year, t.month, t.day);
  if (days === undefined) throw new RangeError(`invalid date ${t.year}-${t.month}-${t.day}`);
  return days * MS_PER_DAY + ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.millisecond;
}

/** Local fields of UTC-read epoch milliseconds. */
export function utcFields(ms: number): LocalDateTime {
  const days = Math.floor(ms / MS_PER_DAY);
  const rest = ms - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const secs = Math.floor(rest / 1000);
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    minute: Math.floor(secs / 60) % 60,
    second: secs % 60,
    millisecond: rest % 1000,
  };
}

/** Offset of the zone from UTC at an instant, in ms (local = instant + offset). */
export function offsetAt(zone: ResolvedZone, epochMs: number): number {
  if (zone.kind === "offset") return zone.offsetMs;
  const floorSec = Math.floor(epochMs / 1000) * 1000;
  const parts = zone.format.formatToParts(new Date(floorSec));
  const get = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? "0";
  let year = Number(get("year"));
  if (get("era").startsWith("B")) year = 1 - year;
  const local = localAsUtcMs({
    year,
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    second: Number(get("second")),
    millisecond: 0,
  });
  return local - floorSec;
}

/** Local fields at an instant (ZonedDateTime.ofInstant). */
export function localAt(zone: ResolvedZone, epochMs: number): LocalDateTime {
  return utcFields(epochMs + offsetAt(zone, epochMs));
}

/**
 * Resolve local fields in the zone (ZonedDateTime.of / resolveLocal): a valid local time keeps
 * its fields; one inside a gap moves forward by the gap's length. Returns the local fields after
 * resolution (what a formatter prints).
 */
export function resolveLocal(zone: ResolvedZone, t: LocalDateTime): LocalDateTime {
  if (zone.kind === "offset") return t;
  const local = localAsUtcMs(t);
  const before = offsetAt(zone, local - 2 * MS_PER_DAY);
  const after = offsetAt(zone, local + 2 * MS_PER_DAY);
  for (const o of [before, after]) {
    if (offsetAt(zone, local - o) === o) return t;
  }
  // In a gap: shift by its length (the offset after minus the offset before).
  return utcFields(local + (after - before));
}

function daysInMonth(year: number, month: number): number {
  const next = month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
  return next! - daysFromCivil(year, month, 1)!;
}

/** Local date-time plus whole months, the day clamped to the target month (plusMonths). */
export function plusMonths(t: LocalDateTime, months: number): LocalDateTime {
  const total = t.year * 12 + (t.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  return { ...t, year, month, day: Math.min(t.day, daysInMonth(year, month)) };
}

/** Local date-time plus whole days (plusDays). */
export function plusDays(t: LocalDateTime, days: number): LocalDateTime {
  const d = daysFromCivil(t.year, t.month, t.day)! + days;
  return { ...t, ...civilFromDays(d) };
}
