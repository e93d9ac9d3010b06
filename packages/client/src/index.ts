// Public entry of @fluss-ts/client, the TypeScript SDK: connect, admin, writers, scanners.

export type { PartitionInfo } from "./admin.ts";
export { Admin, type TableDefinition, type TablePathLike } from "./admin.ts";
export { connect, FlussConnection } from "./connection.ts";
export { Lookuper, PrefixLookuper } from "./lookup/lookup-api.ts";
export type { Acks, ConnectOptions, ScanOptions, StartPosition, WriterOptions } from "./options.ts";
export { LogScanner, type ScanBatch, type ScanRecord } from "./scan/log-scanner.ts";
export { SnapshotScanner } from "./scan/snapshot-scanner.ts";
export { Table } from "./table.ts";
export { AppendWriter } from "./write/append-writer.ts";
export { UpsertWriter } from "./write/upsert-writer.ts";
