// Public entry of @fluss-ts/client, the TypeScript SDK: connect, admin, writers, scanners.
export { Admin, type TableDefinition, type TablePathLike } from "./admin.ts";
export { connect, FlussConnection } from "./connection.ts";
export type { Acks, ConnectOptions, ScanOptions, StartPosition, WriterOptions } from "./options.ts";
export { LogScanner, type ScanBatch, type ScanRecord } from "./scan/log-scanner.ts";
export { Table } from "./table.ts";
export { AppendWriter } from "./write/append-writer.ts";
