// A small SQL-ish filter language over a table schema, parsed into a Predicate, and the inverse
// (`predicateToString`). Grammar (keywords case-insensitive, columns case-sensitive):
//   expr      := and ( OR and )*            and := unary ( AND unary )*
//   unary     := NOT unary | '(' expr ')' | TRUE | FALSE | condition
//   condition := column cmp literal | literal cmp column | column IS [NOT] NULL
//              | column [NOT] IN '(' literal ( ',' literal )* ')'
//              | column [NOT] BETWEEN literal AND literal | column [NOT] LIKE 'pattern'
//              | (STARTS_WITH | ENDS_WITH | CONTAINS) '(' column ',' literal ')'
//   cmp       := = | == | <> | != | < | <= | > | >=
//   column    := identifier ([A-Za-z_][A-Za-z0-9_]*, not a keyword) | `any text` (`` escapes `)
//   literal   := number | 'text' | "text" (a doubled quote escapes it) | TRUE | FALSE | NULL
//              | X'hex' | DATE 'text' | TIME 'text' | TIMESTAMP 'text'
// Literals are converted to the column's type with the converters rows use (so DECIMAL refuses
// extra fraction digits, DATE takes 'YYYY-MM-DD', TIMESTAMP ISO-8601 text or epoch ms, BYTES X'..'
// or base64). NULL is allowed only inside IN lists (`= NULL` is refused: use IS NULL). LIKE takes
// 'abc%', '%abc', '%abc%' or a pattern without wildcards, and no '_' (use STARTS_WITH & co.).
// Errors are INVALID_ARGUMENT "invalid predicate at position N: …" (N counts characters from 1).
// Invariant: parsePredicate(predicateToString(p), schema) prints back to the same text (format.ts).

import { Errors, FlussError } from "../errors.ts";
import { type ScalarValue, toScalar } from "../record/scalar.ts";
import type { Schema } from "../schema.ts";
import { type DataType, typeToSql } from "../types.ts";
import { ValueMismatch } from "../values/mismatch.ts";
import { FUNCTIONS, KEYWORDS } from "./format.ts";
import {
  and,
  type ComparisonOp,
  checkLeaf,
  type LeafOp,
  type LeafPredicate,
  not,
  or,
  type Predicate,
} from "./predicate.ts";

type Kind = "ident" | "quoted" | "string" | "number" | "hex" | "op" | "(" | ")" | "," | "eof";

interface Token {
  readonly kind: Kind;
  /** Identifier / op text, decoded string, number text or hex digits. */
  readonly text: string;
  /** 0-based character offset in the input. */
  readonly pos: number;
}

const TYPED_LITERALS = new Set(["DATE", "TIME", "TIMESTAMP"]);
const CMP: Readonly<Record<string, ComparisonOp>> = {
  "=": "EQUAL",
  "==": "EQUAL",
  "<>": "NOT_EQUAL",
  "!=": "NOT_EQUAL",
  "<": "LESS_THAN",
  "<=": "LESS_OR_EQUAL",
  ">": "GREATER_THAN",
  ">=": "GREATER_OR_EQUAL",
};
const FLIPPED: Readonly<Record<ComparisonOp, ComparisonOp>> = {
  EQUAL: "EQUAL",
  NOT_EQUAL: "NOT_EQUAL",
  LESS_THAN: "GREATER_THAN",
  LESS_OR_EQUAL: "GREATER_OR_EQUAL",
  GREATER_THAN: "LESS_THAN",
  GREATER_OR_EQUAL: "LESS_OR_EQUAL",
};

function syntaxError(pos: number, message: string): FlussError {
  return new FlussError(Errors.INVALID_ARGUMENT, `invalid predicate at position ${pos + 1}: ${message}`);
}

const NUMBER_RE = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

function quotedEnd(text: string, start: number, q: string): [string, number] {
  let out = "";
  let i = start + 1;
  for (;;) {
    const j = text.indexOf(q, i);
    if (j < 0) throw syntaxError(start, `unterminated ${q === "`" ? "quoted column name" : "string"}`);
    out += text.slice(i, j);
    if (text[j + 1] !== q) return [out, j + 1];
    out += q;
    i = j + 2;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"' || ch === "`") {
      const [value, end] = quotedEnd(text, i, ch);
      tokens.push({ kind: ch === "`" ? "quoted" : "string", text: value, pos: start });
      i = end;
    } else if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: ch, text: ch, pos: start });
      i++;
    } else if ("=<>!".includes(ch)) {
      const two = text.slice(i, i + 2);
      const op = CMP[two] !== undefined ? two : ch;
      if (CMP[op] === undefined) throw syntaxError(i, `unexpected character '${ch}'`);
      tokens.push({ kind: "op", text: op, pos: start });
      i += op.length;
    } else if (/[0-9.+-]/.test(ch)) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (m === null) throw syntaxError(i, `unexpected character '${ch}'`);
      tokens.push({ kind: "number", text: m[0], pos: start });
      i += m[0].length;
    } else {
      IDENT_RE.lastIndex = i;
      const m = IDENT_RE.exec(text);
      if (m === null) throw syntaxError(i, `unexpected character '${ch}'`);
      i += m[0].length;
      if ((m[0] === "X" || m[0] === "x") && text[i] === "'") {
        const [digits, end] = quotedEnd(text, i, "'");
        if (!/^([0-9A-Fa-f]{2})*$/.test(digits))
          throw syntaxError(start, "X'…' needs an even number of hex digits");
        tokens.push({ kind: "hex", text: digits, pos: start });
        i = end;
      } else tokens.push({ kind: "ident", text: m[0], pos: start });
    }
  }
  tokens.push({ kind: "eof", text: "", pos: text.length });
  return tokens;
}

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the input";
  if (t.kind === "string") return `'${t.text}'`;
  if (t.kind === "quoted") return `\`${t.text}\``;
  if (t.kind === "hex") return `X'${t.text}'`;
  return `'${t.text}'`;
}

/** A literal as written: the raw input for the converters, or null. */
interface RawLiteral {
  readonly value: unknown;
  readonly pos: number;
}

class Parser {
  readonly #tokens: Token[];
  readonly #schema: Schema;
  #at = 0;

  constructor(text: string, schema: Schema) {
    this.#tokens = tokenize(text);
    this.#schema = schema;
  }

  parse(): Predicate {
    const p = this.#or();
    const t = this.#peek();
    if (t.kind !== "eof") throw syntaxError(t.pos, `expected AND, OR or the end, found ${describe(t)}`);
    return p;
  }

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#at + ahead, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== "eof") this.#at++;
    return t;
  }

  #isKeyword(t: Token, word: string): boolean {
    return t.kind === "ident" && t.text.toUpperCase() === word;
  }

  #acceptKeyword(word: string): boolean {
    if (!this.#isKeyword(this.#peek(), word)) return false;
    this.#at++;
    return true;
  }

  #expect(kind: Kind, what: string): Token {
    const t = this.#next();
    if (t.kind !== kind) throw syntaxError(t.pos, `expected ${what}, found ${describe(t)}`);
    return t;
  }

  #expectKeyword(word: string): void {
    const t = this.#next();
    if (!this.#isKeyword(t, word)) throw syntaxError(t.pos, `expected ${word}, found ${describe(t)}`);
  }

  #or(): Predicate {
    const children = [this.#and()];
    while (this.#acceptKeyword("OR")) children.push(this.#and());
    return or(...children);
  }

  #and(): Predicate {
    const children = [this.#unary()];
    while (this.#acceptKeyword("AND")) children.push(this.#unary());
    return and(...children);
  }

  #unary(): Predicate {
    const t = this.#peek();
    if (this.#acceptKeyword("NOT")) return not(this.#unary());
    if (t.kind === "(") {
      this.#at++;
      const p = this.#or();
      this.#expect(")", "')'");
      return p;
    }
    const next = this.#peek(1);
    if (t.kind === "ident" && next.kind === "(" && FUNCTIONS[t.text.toUpperCase()] !== undefined) {
      return this.#function(FUNCTIONS[t.text.toUpperCase()]!);
    }
    if ((this.#isKeyword(t, "TRUE") || this.#isKeyword(t, "FALSE")) && next.kind !== "op") {
      this.#at++;
      return this.#isKeyword(t, "TRUE") ? and() : or();
    }
    return this.#condition();
  }

  #function(op: LeafOp): LeafPredicate {
    this.#at += 2;
    const column = this.#column();
    this.#expect(",", "','");
    const lit = this.#literal();
    this.#expect(")", "')'");
    return this.#leaf(column, op, [lit]);
  }

  #startsLiteral(): boolean {
    const t = this.#peek();
    if (t.kind === "number" || t.kind === "string" || t.kind === "hex") return true;
    if (t.kind !== "ident") return false;
    const word = t.text.toUpperCase();
    if (word === "TRUE" || word === "FALSE" || word === "NULL") return true;
    return TYPED_LITERALS.has(word) && this.#peek(1).kind === "string";
  }

  #condition(): Predicate {
    if (this.#startsLiteral()) {
      const lit = this.#literal();
      const opTok = this.#expect("op", "a comparison operator");
      const column = this.#column();
      return this.#leaf(column, FLIPPED[CMP[opTok.text]!], [lit]);
    }
    const column = this.#column();
    const t = this.#next();
    if (t.kind === "op") return this.#leaf(column, CMP[t.text]!, [this.#literal()]);
    if (this.#isKeyword(t, "IS")) {
      const negated = this.#acceptKeyword("NOT");
      this.#expectKeyword("NULL");
      return this.#leaf(column, negated ? "IS_NOT_NULL" : "IS_NULL", []);
    }
    let negated = false;
    let word = t;
    if (this.#isKeyword(t, "NOT")) {
      negated = true;
      word = this.#next();
    }
    if (this.#isKeyword(word, "IN")) {
      this.#expect("(", "'(' after IN");
      const list = [this.#literal(true)];
      while (this.#peek().kind === ",") {
        this.#at++;
        list.push(this.#literal(true));
      }
      this.#expect(")", "',' or ')'");
      return this.#leaf(column, negated ? "NOT_IN" : "IN", list);
    }
    if (this.#isKeyword(word, "BETWEEN")) {
      const low = this.#literal();
      this.#expectKeyword("AND");
      const high = this.#literal();
      const range = and(
        this.#leaf(column, "GREATER_OR_EQUAL", [low]),
        this.#leaf(column, "LESS_OR_EQUAL", [high]),
      );
      return negated ? not(range) : range;
    }
    if (this.#isKeyword(word, "LIKE")) {
      const p = this.#like(column);
      return negated ? not(p) : p;
    }
    throw syntaxError(
      word.pos,
      `expected a comparison operator, IS, IN, BETWEEN or LIKE after column '${column.name}', found ${describe(word)}`,
    );
  }

  #like(column: ColumnRef): LeafPredicate {
    const t = this.#expect("string", "a quoted LIKE pattern");
    if (column.type.root !== "STRING" && column.type.root !== "CHAR") {
      throw syntaxError(
        column.pos,
        `LIKE applies to STRING and CHAR columns, '${column.name}' is ${typeToSql(column.type)}`,
      );
    }
    const pattern = t.text;
    if (pattern.includes("_")) {
      throw syntaxError(
        t.pos,
        "LIKE patterns with '_' are not supported; use STARTS_WITH, ENDS_WITH or CONTAINS",
      );
    }
    const lead = pattern.startsWith("%");
    const trail = pattern.length > (lead ? 1 : 0) && pattern.endsWith("%");
    const body = pattern.slice(lead ? 1 : 0, pattern.length - (trail ? 1 : 0));
    if (body.includes("%")) {
      throw syntaxError(
        t.pos,
        "LIKE supports 'abc%', '%abc', '%abc%' or no wildcard; use AND of CONTAINS for more",
      );
    }
    const op: LeafOp =
      lead && trail
        ? "CONTAINS"
        : lead
          ? body === ""
            ? "STARTS_WITH"
            : "ENDS_WITH"
          : trail
            ? "STARTS_WITH"
            : "EQUAL";
    return this.#leaf(column, op, [{ value: body, pos: t.pos }]);
  }

  #column(): ColumnRef {
    const t = this.#next();
    if (t.kind !== "quoted" && (t.kind !== "ident" || KEYWORDS.has(t.text.toUpperCase()))) {
      throw syntaxError(t.pos, `expected a column name, found ${describe(t)}`);
    }
    const index = this.#schema.columns.findIndex((c) => c.name === t.text);
    if (index < 0) {
      const names = this.#schema.columns.map((c) => c.name);
      const near = names.find((n) => n.toLowerCase() === t.text.toLowerCase());
      const hint = near !== undefined ? `; did you mean '${near}'?` : ` (columns: ${names.join(", ")})`;
      throw syntaxError(t.pos, `unknown column '${t.text}'${hint}`);
    }
    return { index, name: t.text, type: this.#schema.columns[index]!.type, pos: t.pos };
  }

  #literal(allowNull = false): RawLiteral {
    const t = this.#next();
    switch (t.kind) {
      case "number":
        return { value: { number: t.text }, pos: t.pos };
      case "string":
        return { value: t.text, pos: t.pos };
      case "hex":
        return { value: new Uint8Array(Buffer.from(t.text, "hex")), pos: t.pos };
      case "ident": {
        const word = t.text.toUpperCase();
        if (word === "TRUE" || word === "FALSE") return { value: word === "TRUE", pos: t.pos };
        if (word === "NULL") {
          if (!allowNull)
            throw syntaxError(t.pos, "a comparison with NULL is never true; use IS NULL / IS NOT NULL");
          return { value: null, pos: t.pos };
        }
        if (TYPED_LITERALS.has(word) && this.#peek().kind === "string") return this.#literal();
        break;
      }
    }
    throw syntaxError(t.pos, `expected a literal, found ${describe(t)}`);
  }

  #leaf(column: ColumnRef, op: LeafOp, raw: readonly RawLiteral[]): LeafPredicate {
    const literals = raw.map((r) => convertLiteral(column, r));
    try {
      return checkLeaf({
        kind: "leaf",
        op,
        column: column.index,
        name: column.name,
        type: column.type,
        literals,
      });
    } catch (err) {
      throw syntaxError(column.pos, (err as Error).message);
    }
  }
}

interface ColumnRef {
  readonly index: number;
  readonly name: string;
  readonly type: DataType;
  readonly pos: number;
}

const NUMERIC_TEXT = new Set(["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL"]);

function convertLiteral(column: ColumnRef, raw: RawLiteral): ScalarValue | null {
  let v = raw.value;
  if (v === null) return null;
  const type = column.type;
  const fail = (why: string): FlussError =>
    syntaxError(raw.pos, `literal for column '${column.name}' (${typeToSql(type)}): ${why}`);
  if (typeof v === "object" && v !== null && "number" in v) {
    const text = (v as { number: string }).number;
    if (NUMERIC_TEXT.has(type.root)) v = text;
    else if (type.root === "STRING" || type.root === "CHAR" || type.root === "BOOLEAN") v = Number(text);
    else if (type.root === "BYTES" || type.root === "BINARY")
      throw fail(`expected X'hex' or base64, got ${text}`);
    else v = Number(text);
  } else if (v instanceof Uint8Array && type.root !== "BYTES" && type.root !== "BINARY") {
    throw fail("X'…' literals are for BYTES and BINARY columns");
  }
  try {
    return toScalar(type, v);
  } catch (err) {
    if (err instanceof ValueMismatch) throw fail(err.message);
    throw err;
  }
}

/** Parse `text` (see the file comment) into a predicate over `schema`. */
export function parsePredicate(text: string, schema: Schema): Predicate {
  return new Parser(text, schema).parse();
}
