// The offsets file a lake snapshot names in its summary (`fluss-offsets`), in Fluss's JSON form
// (TableBucketOffsetsJsonSerde, version 1): for each bucket the first log offset NOT in the lake
// (Fluss's tiered log end offset); array index = bucket id, -1 = bucket not tiered.
//   {"version":1,"table_id":7,"bucket_offsets":[120,98,-1]}
//   {"version":1,"table_id":7,"partition_offsets":[{"partition_id":3,"partition_name":"2026","bucket_offsets":[5,0]}]}
// `partition_name` is ours (Fluss's reader ignores unknown fields): it lets a lake reader name a
// partition Fluss has since dropped.

/** Key of a physical bucket: partition id ("" when unpartitioned) and bucket. */
export function bucketKey(partitionId: bigint | null, bucket: number): string {
  return `${partitionId === null ? "" : partitionId.toString()}:${bucket}`;
}

export interface TieredBucket {
  readonly partitionId: bigint | null;
  readonly partitionName: string | null;
  readonly bucket: number;
  /** First offset not in the lake. */
  readonly offset: bigint;
}

export interface LakeOffsets {
  readonly tableId: bigint;
  /** By bucketKey. */
  readonly buckets: ReadonlyMap<string, TieredBucket>;
}

export const OFFSETS_FILE_VERSION = 1;

function bucketArray(entries: readonly TieredBucket[]): string {
  const n = Math.max(-1, ...entries.map((e) => e.bucket)) + 1;
  const arr: string[] = new Array(n).fill("-1");
  for (const e of entries) arr[e.bucket] = e.offset.toString();
  return `[${arr.join(",")}]`;
}

/** JSON text (bigints written as JSON numbers, exactly). */
export function encodeOffsets(o: LakeOffsets): string {
  const all = [...o.buckets.values()];
  const head = `{"version":${OFFSETS_FILE_VERSION},"table_id":${o.tableId}`;
  if (all.length === 0) return `${head}}`;
  const unpartitioned = all.filter((e) => e.partitionId === null);
  if (unpartitioned.length === all.length) return `${head},"bucket_offsets":${bucketArray(all)}}`;
  const byPartition = new Map<bigint, TieredBucket[]>();
  for (const e of all) {
    if (e.partitionId === null)
      throw new Error("a partitioned table's offsets name a bucket without partition");
    const list = byPartition.get(e.partitionId) ?? [];
    list.push(e);
    byPartition.set(e.partitionId, list);
  }
  const parts = [...byPartition.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(
      ([id, list]) =>
        `{"partition_id":${id},"partition_name":${JSON.stringify(list[0]!.partitionName ?? "")},"bucket_offsets":${bucketArray(list)}}`,
    );
  return `${head},"partition_offsets":[${parts.join(",")}]}`;
}

/** Parse with big integers kept exact (offsets and ids may pass 2^53). */
export function decodeOffsets(text: string): LakeOffsets {
  const exact = text.replace(/(?<=[:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '"$1"');
  const json = JSON.parse(exact) as {
    version: number;
    table_id: number | string;
    bucket_offsets?: Array<number | string>;
    partition_offsets?: Array<{
      partition_id: number | string;
      partition_name?: string;
      bucket_offsets: Array<number | string>;
    }>;
  };
  if (json.version !== OFFSETS_FILE_VERSION)
    throw new Error(`unsupported offsets file version ${json.version}`);
  const buckets = new Map<string, TieredBucket>();
  const add = (partitionId: bigint | null, partitionName: string | null, offsets: Array<number | string>) => {
    offsets.forEach((v, bucket) => {
      const offset = BigInt(v);
      if (offset === -1n) return;
      buckets.set(bucketKey(partitionId, bucket), { partitionId, partitionName, bucket, offset });
    });
  };
  if (json.bucket_offsets) add(null, null, json.bucket_offsets);
  for (const p of json.partition_offsets ?? [])
    add(BigInt(p.partition_id), p.partition_name ?? null, p.bucket_offsets);
  return { tableId: BigInt(json.table_id), buckets };
}
