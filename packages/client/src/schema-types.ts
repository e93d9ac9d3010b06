// Schemas defined in TypeScript: `defineSchema({ id: bigint().notNull(), item: string() })` gives a
// table Schema (usable wherever one is taken: `createTable(path, { schema })`) that also carries
// two TypeScript row types: the rows readers get (`RowOf`) and the rows writers take (`InputOf`),
// so `conn.getTable(path, Orders)` (or `conn.getTable<typeof Orders>(path)`) types its writers,
// scanners and lookups. The value conventions are the SDK's (README "Values in rows"): BIGINT is a
// `bigint` when read and a bigint, safe-integer number or integer string when written; DECIMAL a
// string; TIMESTAMP / TIMESTAMP_LTZ a `Date`; BYTES / BINARY a `Uint8Array` (base64 text accepted
// on input); DATE "YYYY-MM-DD"; TIME "HH:MM:SS[.fff]". Nullable columns read `T | null` and are
// optional on input; NOT NULL and primary-key columns are required.
// Invariants: the runtime value of a defined schema is exactly common's validated `Schema` (built by
// makeSchema); the row types exist only at compile time (phantom properties, never set).

import { type DataType, makeSchema, makeType, type Schema, type TypeRoot, typeToSql } from "@fluss-ts/common";

declare const OUT: unique symbol;
declare const IN: unique symbol;
declare const NULLABLE: unique symbol;
declare const ROW: unique symbol;
declare const INPUT: unique symbol;

/** A column type built by `bigint()`, `string()`, ...; `notNull()` makes it required. */
export interface ColumnType<Out, In, Nullable extends boolean = true> {
  readonly type: DataType;
  readonly comment: string | undefined;
  readonly [OUT]?: Out;
  readonly [IN]?: In;
  readonly [NULLABLE]?: Nullable;
  /** The same type, NOT NULL. */
  notNull(): ColumnType<Out, In, false>;
  /** The same type with a column comment. */
  withComment(text: string): ColumnType<Out, In, Nullable>;
}

class ColumnTypeImpl {
  readonly type: DataType;
  readonly comment: string | undefined;

  constructor(type: DataType, comment?: string) {
    this.type = makeType(type);
    this.comment = comment;
  }

  notNull(): ColumnTypeImpl {
    return new ColumnTypeImpl({ ...this.type, nullable: false }, this.comment);
  }

  withComment(text: string): ColumnTypeImpl {
    return new ColumnTypeImpl(this.type, text);
  }
}

function column<Out, In>(root: TypeRoot, params: Partial<DataType> = {}): ColumnType<Out, In> {
  return new ColumnTypeImpl({ root, nullable: true, ...params }) as unknown as ColumnType<Out, In>;
}

/** What a TIMESTAMP / TIMESTAMP_LTZ column takes: a Date, ISO-8601 text, epoch ms, or a bigint in the column's unit. */
export type TimestampInput = Date | string | number | bigint;
/** What a BIGINT column takes: a bigint, a safe-integer number or an integer string. */
export type BigintInput = bigint | number | string;

export const boolean = (): ColumnType<boolean, boolean> => column("BOOLEAN");
export const tinyint = (): ColumnType<number, number> => column("TINYINT");
export const smallint = (): ColumnType<number, number> => column("SMALLINT");
export const int = (): ColumnType<number, number> => column("INTEGER");
export const bigint = (): ColumnType<bigint, BigintInput> => column("BIGINT");
export const float = (): ColumnType<number, number> => column("FLOAT");
export const double = (): ColumnType<number, number> => column("DOUBLE");
/** DECIMAL(precision, scale): read as a string with exactly `scale` fraction digits ("12.30"). */
export const decimal = (precision: number, scale = 0): ColumnType<string, string | number | bigint> =>
  column("DECIMAL", { precision, scale });
export const string = (): ColumnType<string, string> => column("STRING");
export const char = (length: number): ColumnType<string, string> => column("CHAR", { length });
export const bytes = (): ColumnType<Uint8Array, Uint8Array | string> => column("BYTES");
export const binary = (length: number): ColumnType<Uint8Array, Uint8Array | string> =>
  column("BINARY", { length });
/** DATE: read as "YYYY-MM-DD"; takes that text, a Date or days since 1970-01-01. */
export const date = (): ColumnType<string, string | Date | number> => column("DATE");
/** TIME(precision): read as "HH:MM:SS[.fff]"; takes that text or milliseconds of the day. */
export const time = (precision = 0): ColumnType<string, string | number> =>
  column("TIME_WITHOUT_TIME_ZONE", { precision });
export const timestamp = (precision = 6): ColumnType<Date, TimestampInput> =>
  column("TIMESTAMP_WITHOUT_TIME_ZONE", { precision });
export const timestampLtz = (precision = 6): ColumnType<Date, TimestampInput> =>
  column("TIMESTAMP_WITH_LOCAL_TIME_ZONE", { precision });

// biome-ignore lint/suspicious/noExplicitAny: matches a column type of any value types
type AnyColumn = ColumnType<any, any, boolean>;
export type ColumnTypes = Readonly<Record<string, AnyColumn>>;

/** Flattens an intersection into one object type (for readable hovers and exact type tests). */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type OutOf<C> = C extends ColumnType<infer O, infer _I, infer _N> ? O : never;
type InOf<C> = C extends ColumnType<infer _O, infer I, infer _N> ? I : never;
type Required<C, Name, Key> = Name extends Key
  ? true
  : C extends ColumnType<infer _O, infer _I, false>
    ? true
    : false;

/** The row a reader gets from a table of these columns (primary-key columns `K` never null). */
export type RowOfColumns<C extends ColumnTypes, K extends PropertyKey = never> = Simplify<{
  -readonly [N in keyof C]: Required<C[N], N, K> extends true ? OutOf<C[N]> : OutOf<C[N]> | null;
}>;

/** The row a writer takes: NOT NULL and key columns required, nullable ones optional. */
export type InputOfColumns<C extends ColumnTypes, K extends PropertyKey = never> = Simplify<
  { -readonly [N in keyof C as Required<C[N], N, K> extends true ? N : never]: InOf<C[N]> } & {
    -readonly [N in keyof C as Required<C[N], N, K> extends true ? never : N]?: InOf<C[N]> | null;
  }
>;

/** A table schema (common's `Schema`) that also carries its TypeScript row types. */
export interface DefinedSchema<Row extends object, Input extends object> extends Schema {
  readonly [ROW]?: Row;
  readonly [INPUT]?: Input;
}

/**
 * Define a table schema in TypeScript. Column order is the object's key order; `primaryKey`
 * columns become NOT NULL (as in SQL).
 *
 * ```ts
 * const Orders = defineSchema({ id: bigint().notNull(), item: string(), amount: decimal(10, 2) });
 * type Order = RowOf<typeof Orders>;        // { id: bigint; item: string | null; amount: string | null }
 * await conn.admin.createTable("shop.orders", { schema: Orders, buckets: 3 });
 * const orders = await conn.getTable("shop.orders", Orders);   // checks the table has these columns
 * ```
 */
export function defineSchema<const C extends ColumnTypes, const K extends keyof C & string = never>(
  columns: C,
  options: { primaryKey?: readonly K[] } = {},
): DefinedSchema<RowOfColumns<C, K>, InputOfColumns<C, K>> {
  const specs = Object.entries(columns).map(([name, c]) => ({
    name,
    type: c.type,
    ...(c.comment !== undefined ? { comment: c.comment } : {}),
  }));
  return makeSchema(specs, options.primaryKey ?? []);
}

/** The type a plain row interface reads as; widened for writing (see `InputOf`). */
type WidenInput<V> = V extends bigint
  ? BigintInput
  : V extends Date
    ? TimestampInput
    : V extends Uint8Array
      ? Uint8Array | string
      : V;

/** Row type of a defined schema, or the type itself when it is a row interface. */
export type RowOf<T> = T extends DefinedSchema<infer R, infer _I> ? R : T;

/**
 * Input type of a defined schema; for a row interface, its columns with the inputs the SDK also
 * accepts (bigint as number or string, Date as text or epoch ms, ...), nullable ones optional.
 */
export type InputOf<T> =
  T extends DefinedSchema<infer _R, infer I>
    ? I
    : string extends keyof T
      ? T
      : Simplify<
          { [K in keyof T as null extends T[K] ? never : K]: WidenInput<T[K]> } & {
            [K in keyof T as null extends T[K] ? K : never]?: WidenInput<T[K]>;
          }
        >;

/** Rows of a table whose type is not known: values by column name. */
export type AnyRow = Record<string, unknown>;

/**
 * Differences between a table's schema and the one a program expects (empty when they agree):
 * the same columns in the same order with the same types, and the same primary key.
 */
export function schemaDifferences(actual: Schema, expected: Schema): string[] {
  const out: string[] = [];
  const n = Math.max(actual.columns.length, expected.columns.length);
  for (let i = 0; i < n; i++) {
    const a = actual.columns[i];
    const e = expected.columns[i];
    const at = a ? `${a.name} ${typeToSql(a.type)}` : "(none)";
    const et = e ? `${e.name} ${typeToSql(e.type)}` : "(none)";
    if (at !== et) out.push(`column ${i + 1} is '${at}', expected '${et}'`);
  }
  if (actual.primaryKey.join(",") !== expected.primaryKey.join(",")) {
    out.push(
      `primary key is (${actual.primaryKey.join(", ")}), expected (${expected.primaryKey.join(", ")})`,
    );
  }
  return out;
}

/** Rows holding only columns `K` of `T` (a projection, a partial update); untyped rows stay as they are. */
export type ColumnsOf<T, K extends keyof T> = string extends keyof T ? T : Pick<T, K>;
