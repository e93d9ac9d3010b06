// Java's Float.toString / Double.toString (JDK 19+ semantics), which Fluss uses to turn FLOAT and
// DOUBLE partition values into text. Digits: the shortest decimal that rounds back to the value
// (two digits are considered too when one suffices, and the closest to the exact value wins);
// layout: plain "123.45" for 1e-3 <= |v| < 1e7 (always a fraction digit: "1.0"), otherwise
// "1.2345E10" / "1.0E-5"; "-0.0" keeps its sign. NaN and infinities are the caller's business.
// Invariants: pure; exact comparisons use bigint rationals, never floating-point differences.

interface Decimal {
  /** Significand digits, no leading zeros (at least one digit). */
  digits: bigint;
  /** Value = digits × 10^exp10. */
  exp10: number;
}

/** Exact value of a finite double as numerator / 2^denShift (denShift may be negative). */
function exactBinary(x: number): { num: bigint; shift: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = hi >>> 20;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  // |x| = mant × 2^e
  return { num: mant, shift: -e };
}

/** |d − x| compared between two decimals, exactly: negative when a is closer than b. */
function compareDistance(x: number, a: Decimal, b: Decimal): number {
  const { num, shift } = exactBinary(x);
  // Bring everything to the common denominator 2^max(shift,0) × 10^max(-exp10, 0).
  const minExp = Math.min(a.exp10, b.exp10, 0);
  const twoShift = Math.max(shift, 0);
  const scaleX = 10n ** BigInt(-minExp) * (shift < 0 ? 1n << BigInt(-shift) : 1n);
  const xs = num * scaleX;
  const scaled = (d: Decimal): bigint =>
    d.digits * 10n ** BigInt(d.exp10 - minExp) * (1n << BigInt(twoShift));
  const da = scaled(a) - xs;
  const db = scaled(b) - xs;
  const abs = (v: bigint): bigint => (v < 0n ? -v : v);
  const diff = abs(da) - abs(db);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

function decimalText(d: Decimal): string {
  return `${d.digits}e${d.exp10}`;
}

/** The correctly rounded p-significant-digit decimal of |x|. */
function rounded(ax: number, p: number): Decimal {
  const [m, e] = ax.toExponential(p - 1).split("e") as [string, string];
  const digits = BigInt(m.replace(".", ""));
  return { digits, exp10: Number(e) - (p - 1) };
}

function candidatesOf(ax: number, p: number): Decimal[] {
  const r = rounded(ax, p);
  const out: Decimal[] = [r, { digits: r.digits + 1n, exp10: r.exp10 }];
  if (r.digits > 1n) out.push({ digits: r.digits - 1n, exp10: r.exp10 });
  return out;
}

function shortest(ax: number, roundsBack: (text: string) => boolean, maxDigits: number): Decimal {
  for (let p = 1; p <= maxDigits; p++) {
    const ok = candidatesOf(ax, p).filter((d) => roundsBack(decimalText(d)));
    if (ok.length === 0) continue;
    // With one digit enough, two-digit decimals compete too (Java picks the closest of both).
    if (p === 1) ok.push(...candidatesOf(ax, 2).filter((d) => roundsBack(decimalText(d))));
    let best = ok[0]!;
    for (const d of ok.slice(1)) {
      const c = compareDistance(ax, d, best);
      if (c < 0 || (c === 0 && d.digits % 2n === 0n && best.digits % 2n !== 0n)) best = d;
    }
    return best;
  }
  return rounded(ax, maxDigits);
}

/** Java's layout of a positive decimal (see file comment). */
function layout(d: Decimal, negative: boolean): string {
  let s = d.digits.toString();
  let exp10 = d.exp10;
  while (s.length > 1 && s.endsWith("0")) {
    s = s.slice(0, -1);
    exp10++;
  }
  // Scientific exponent: value = s[0].s[1..] × 10^sci
  const sci = exp10 + s.length - 1;
  const sign = negative ? "-" : "";
  if (sci >= -3 && sci < 7) {
    if (sci >= 0) {
      const intPart = s.length > sci + 1 ? s.slice(0, sci + 1) : s.padEnd(sci + 1, "0");
      const frac = s.length > sci + 1 ? s.slice(sci + 1) : "0";
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${"0".repeat(-sci - 1)}${s}`;
  }
  const frac = s.length > 1 ? s.slice(1) : "0";
  return `${sign}${s[0]}.${frac}E${sci}`;
}

/** Java's Double.toString of a finite number. */
export function javaDoubleToString(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const ax = Math.abs(x);
  return layout(
    shortest(ax, (t) => Number(t) === ax, 17),
    x < 0,
  );
}

/** Java's Float.toString of a number already representable as a float (Math.fround). */
export function javaFloatToString(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const ax = Math.abs(x);
  return layout(
    shortest(ax, (t) => Math.fround(Number(t)) === ax, 9),
    x < 0,
  );
}
