// defineSchema: the runtime schema it builds (columns, types, nullability, primary key) and the
// row types it carries (checked by `npm run typecheck`: `expectTypeOf` and `@ts-expect-error`
// lines fail the type check when a type is wrong), plus how a table handle's writers, scanners and
// lookups take those types.

import { makeSchema, parseSchema, schemaToSql } from "@fluss-ts/common";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { LogScanner, ScanRecord } from "../src/scan/log-scanner.ts";
import {
  type AnyRow,
  bigint,
  boolean,
  bytes,
  date,
  decimal,
  defineSchema,
  double,
  type InputOf,
  int,
  type RowOf,
  schemaDifferences,
  string,
  timestampLtz,
} from "../src/schema-types.ts";
import type { Table } from "../src/table.ts";
import type { AppendWriter } from "../src/write/append-writer.ts";
import type { UpsertWriter } from "../src/write/upsert-writer.ts";

const Orders = defineSchema({
  id: bigint().notNull(),
  item: string(),
  amount: decimal(10, 2),
  paid: boolean().notNull(),
  at: timestampLtz(3).withComment("when"),
});

const Users = defineSchema(
  { id: int(), name: string(), photo: bytes(), born: date() },
  { primaryKey: ["id"] },
);

describe("defineSchema", () => {
  it("builds the schema the SQL text would", () => {
    const fromText = parseSchema(
      "id BIGINT NOT NULL, item STRING, amount DECIMAL(10, 2), paid BOOLEAN NOT NULL, at TIMESTAMP_LTZ(3) COMMENT 'when'",
    );
    expect(schemaToSql(Orders)).toBe(schemaToSql(fromText));
    expect(Orders.columns.map((c) => c.name)).toEqual(["id", "item", "amount", "paid", "at"]);
    expect(Orders.columns[4]!.comment).toBe("when");
    expect(Orders.primaryKey).toEqual([]);
    // Primary-key columns become NOT NULL, as in SQL.
    expect(schemaToSql(Users)).toBe("id INT NOT NULL, name STRING, photo BYTES, born DATE, PRIMARY KEY (id)");
  });

  it("refuses what makeSchema refuses", () => {
    expect(() => defineSchema({ a: decimal(50, 2) })).toThrow(/precision/);
    // @ts-expect-error "nope" is not a column
    expect(() => defineSchema({ a: int() }, { primaryKey: ["nope"] })).toThrow(/does not exist/);
  });

  it("reports how a table's schema differs from the one expected", () => {
    expect(schemaDifferences(Orders, Orders)).toEqual([]);
    const other = makeSchema([
      { name: "id", type: "BIGINT NOT NULL" },
      { name: "item", type: "INT" },
    ]);
    const diff = schemaDifferences(other, Orders);
    expect(diff[0]).toBe("column 2 is 'item INT', expected 'item STRING'");
    expect(diff.at(-1)).toBe("column 5 is '(none)', expected 'at TIMESTAMP_LTZ(3)'");
  });

  it("types rows read and rows written", () => {
    type Order = RowOf<typeof Orders>;
    expectTypeOf<Order>().toEqualTypeOf<{
      id: bigint;
      item: string | null;
      amount: string | null;
      paid: boolean;
      at: Date | null;
    }>();
    type OrderIn = InputOf<typeof Orders>;
    expectTypeOf<OrderIn>().toEqualTypeOf<{
      id: bigint | number | string;
      paid: boolean;
      item?: string | null;
      amount?: string | number | bigint | null;
      at?: Date | string | number | bigint | null;
    }>();
    // Primary-key columns are never null, and required on input.
    expectTypeOf<RowOf<typeof Users>>().toEqualTypeOf<{
      id: number;
      name: string | null;
      photo: Uint8Array | null;
      born: string | null;
    }>();
    expectTypeOf<InputOf<typeof Users>["id"]>().toEqualTypeOf<number>();
    // A row interface types a table too; its input widens bigint and Date like the SDK accepts.
    interface Click {
      user: bigint;
      page: string | null;
      at: Date;
    }
    expectTypeOf<InputOf<Click>>().toEqualTypeOf<{
      user: bigint | number | string;
      at: Date | string | number | bigint;
      page?: string | null;
    }>();
    // Untyped tables stay plain records.
    expectTypeOf<RowOf<AnyRow>>().toEqualTypeOf<AnyRow>();
    expectTypeOf<InputOf<AnyRow>>().toEqualTypeOf<AnyRow>();
  });

  it("types writers, scanners and lookups of a typed table", () => {
    type Orders = Table<RowOf<typeof Orders>, InputOf<typeof Orders>>;
    const check = (t: Orders, users: Table<RowOf<typeof Users>, InputOf<typeof Users>>) => {
      const w = t.newAppendWriter();
      expectTypeOf(w).toEqualTypeOf<AppendWriter<InputOf<typeof Orders>>>();
      // @ts-expect-error 'paid' is required
      void w.append({ id: 1n });
      // @ts-expect-error 'price' is not a column
      void w.append({ id: 1n, paid: true, price: 3 });
      void w.append({ id: 1, paid: false, at: "2026-11-26T10:00:00Z" });
      const all = t.newLogScanner();
      expectTypeOf(all).toEqualTypeOf<LogScanner<RowOf<typeof Orders>>>();
      // A projection yields only the columns read.
      const some = t.newLogScanner({ columns: ["id", "amount"] });
      expectTypeOf<typeof some>().toEqualTypeOf<LogScanner<{ id: bigint; amount: string | null }>>();
      // @ts-expect-error no such column
      t.newLogScanner({ columns: ["nope"] });
      expectTypeOf<
        Awaited<ReturnType<ReturnType<Table<RowOf<typeof Users>>["newLookuper"]>["lookup"]>>
      >().toEqualTypeOf<RowOf<typeof Users> | null>();
      const partial = users.newUpsertWriter({ targetColumns: ["id", "name"] });
      expectTypeOf(partial).toEqualTypeOf<UpsertWriter<{ id: number; name?: string | null }>>();
      // @ts-expect-error 'born' is not a target column of this writer
      void partial.upsert({ id: 1, born: "2000-01-01" });
      void users.newUpsertWriter().delete({ id: 3 });
      // An explicit row type for one writer.
      expectTypeOf(t.newAppendWriter<{ id: bigint; paid: boolean }>()).toEqualTypeOf<
        AppendWriter<{ id: bigint; paid: boolean }>
      >();
      expectTypeOf<ScanRecord<RowOf<typeof Orders>>["row"]["id"]>().toEqualTypeOf<bigint>();
      void double;
    };
    expect(typeof check).toBe("function");
  });
});
