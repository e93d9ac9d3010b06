// The payload of an append batch: rows written straight into Arrow column buffers, serialised as
// one Fluss log batch (Arrow IPC body, compressed per the table's options; with column statistics
// per `table.statistics.columns`, so readers' filters can skip it).

import { ArrowBatchBuilder, buildArrowLogBatch, type IpcCompression, type Schema } from "@fluss-ts/common";
import type { BatchPayload } from "./write-batch.ts";

export type Row = Readonly<Record<string, unknown>>;

export class ArrowPayload implements BatchPayload<Row> {
  private readonly builder: ArrowBatchBuilder;
  private readonly schemaId: number;
  private readonly compression: IpcCompression;
  private readonly statistics: string | null;

  constructor(schema: Schema, schemaId: number, compression: IpcCompression, statistics: string | null) {
    this.builder = new ArrowBatchBuilder(schema);
    this.schemaId = schemaId;
    this.compression = compression;
    this.statistics = statistics;
  }

  add(row: Row): number {
    const before = this.builder.sizeBytes;
    this.builder.append(row);
    return this.builder.sizeBytes - before;
  }

  get count(): number {
    return this.builder.rowCount;
  }

  get sizeBytes(): number {
    return this.builder.sizeBytes;
  }

  encode(writerId: bigint, sequence: number): Uint8Array {
    return buildArrowLogBatch({
      schema: this.builder.schema,
      schemaId: this.schemaId,
      recordBatch: this.builder.build(),
      compression: this.compression,
      ...(this.statistics !== null ? { statistics: this.statistics } : {}),
      writerId,
      batchSequence: sequence,
    });
  }
}
