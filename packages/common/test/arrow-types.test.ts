// The fluss type → Arrow type mapping (as Fluss's ArrowUtils) and the schema caches.

import { DataType, type Field, TimeUnit } from "apache-arrow";
import { describe, expect, it } from "vitest";
import {
  arrowSchemaOfColumns,
  bufferCountOf,
  parseSchema,
  parseType,
  toArrowSchema,
  toArrowType,
} from "../src/index.ts";

function describeField(f: Field): string {
  return `${f.name}:${String(f.type)}${f.nullable ? "" : " not null"}`;
}

describe("toArrowSchema", () => {
  const schema = parseSchema(
    "b BOOLEAN NOT NULL, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, " +
      "dec DECIMAL(20, 4), s STRING, c CHAR(5), by BYTES, bi BINARY(16), day DATE",
  );

  it("maps each type as Fluss does, with the column's nullability", () => {
    expect(toArrowSchema(schema).fields.map(describeField)).toEqual([
      "b:Bool not null",
      "i8:Int8",
      "i16:Int16",
      "i32:Int32",
      "i64:Int64",
      "f:Float32",
      "d:Float64",
      "dec:Decimal[20e+4]",
      "s:Utf8",
      "c:Utf8",
      "by:Binary",
      "bi:FixedSizeBinary[16]",
      "day:Date32<DAY>",
    ]);
    const dec = toArrowType(parseType("DECIMAL(20, 4)"));
    expect(DataType.isDecimal(dec) && dec.bitWidth).toBe(128);
  });

  it("maps TIME and TIMESTAMP precisions to units and widths, timestamps without time zone", () => {
    const cases: [number, TimeUnit, number][] = [
      [0, TimeUnit.SECOND, 32],
      [1, TimeUnit.MILLISECOND, 32],
      [3, TimeUnit.MILLISECOND, 32],
      [4, TimeUnit.MICROSECOND, 64],
      [6, TimeUnit.MICROSECOND, 64],
      [7, TimeUnit.NANOSECOND, 64],
      [9, TimeUnit.NANOSECOND, 64],
    ];
    for (const [p, unit, width] of cases) {
      const time = toArrowType(parseType(`TIME(${p})`));
      expect(DataType.isTime(time) && [time.unit, time.bitWidth]).toEqual([unit, width]);
      for (const sql of [`TIMESTAMP(${p})`, `TIMESTAMP_LTZ(${p})`]) {
        const ts = toArrowType(parseType(sql));
        expect(DataType.isTimestamp(ts) && [ts.unit, ts.timezone]).toEqual([unit, null]);
      }
    }
  });

  it("projects columns in projection order and caches schemas", () => {
    expect(toArrowSchema(schema, [8, 0]).fields.map((f) => f.name)).toEqual(["s", "b"]);
    expect(toArrowSchema(schema, [8, 0])).toBe(toArrowSchema(schema, [8, 0]));
    expect(toArrowSchema(schema)).toBe(toArrowSchema(schema));
    expect(arrowSchemaOfColumns(schema.columns)).toBe(arrowSchemaOfColumns(schema.columns));
  });

  it("counts the IPC buffers each column owns", () => {
    expect(schema.columns.map((c) => bufferCountOf(c.type))).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 2, 2]);
  });
});
