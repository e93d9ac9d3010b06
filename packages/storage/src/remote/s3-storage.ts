// Remote storage in an S3-compatible object store (`remote.data.dir = s3://bucket/prefix`), through
// the AWS SDK v3 (`@aws-sdk/client-s3`, and `@aws-sdk/lib-storage` for multipart uploads). The SDK
// is loaded on first use, so a server that keeps its remote data on a file system never loads it.
// Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the
// environment, profiles, instance roles); they are never part of the configuration we store.
// Atomicity: a PUT, and a completed multipart upload, replace an object whole (S3's semantics);
// an aborted multipart upload leaves nothing visible (lib-storage aborts on failure).
// Memory: a file up to one part is read into memory and PUT; larger files stream in parts of
// `partBytes` with at most `uploadPartsInFlight` in flight (lib-storage buffers each part it
// sends). Ranged gets request exactly the range; `getFile` streams to disk.

import fs from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { assert } from "@fluss-ts/common";
import {
  assertKey,
  assertPrefix,
  assertRange,
  type ByteRange,
  REMOTE_DELETE_PREFIX_MAX,
  REMOTE_LIST_LIMIT_DEFAULT,
  type RemoteObject,
  type RemoteStorage,
  remoteError,
} from "./remote-storage.ts";

type S3Module = typeof import("@aws-sdk/client-s3");
type UploadModule = typeof import("@aws-sdk/lib-storage");

/** S3's smallest multipart part (except the last). */
export const S3_PART_BYTES_MIN = 5 * 1024 * 1024;
export const S3_PART_BYTES_DEFAULT = 8 * 1024 * 1024;
/** Keys one DeleteObjects request may name (S3's limit). */
const DELETE_BATCH_MAX = 1000;
/** Keys one ListObjectsV2 page holds at most (S3's limit). */
const LIST_PAGE_MAX = 1000;
/** Parts of one upload sent at once (each is held in memory while in flight). */
const UPLOAD_PARTS_IN_FLIGHT = 2;

export interface S3StorageOptions {
  readonly bucket: string;
  /** Prepended to every key: "" or a path ending with "/". */
  readonly prefix: string;
  /** For S3-compatible stores (MinIO, moto, ...): e.g. http://127.0.0.1:9000. */
  readonly endpoint?: string;
  readonly region: string;
  /** Address buckets as a path (`endpoint/bucket/key`), as S3-compatible stores usually need. */
  readonly pathStyle: boolean;
  /** Explicit credentials (tests); default: the SDK's chain (environment first). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly partBytes?: number;
  /** Attempts per request (the SDK retries throttling and network errors with backoff). */
  readonly attemptsMax?: number;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(err) === 404;
}

function isInvalidRange(err: unknown): boolean {
  return (err as { name?: string })?.name === "InvalidRange" || statusOf(err) === 416;
}

export class S3Storage implements RemoteStorage {
  readonly description: string;
  private readonly opts: S3StorageOptions;
  private readonly partBytes: number;
  private sdk: Promise<{ s3: S3Module; upload: UploadModule; client: S3Client }> | null = null;

  constructor(opts: S3StorageOptions) {
    assertPrefix(opts.prefix);
    this.opts = opts;
    this.partBytes = opts.partBytes ?? S3_PART_BYTES_DEFAULT;
    assert(this.partBytes >= S3_PART_BYTES_MIN, "S3 parts are at least 5 MiB");
    this.description = `s3://${opts.bucket}/${opts.prefix}`;
  }

  /** The SDK and one client, loaded on first use. */
  private load(): Promise<{ s3: S3Module; upload: UploadModule; client: S3Client }> {
    this.sdk ??= (async () => {
      const [s3, upload] = await Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
      const o = this.opts;
      const client = new s3.S3Client({
        region: o.region,
        forcePathStyle: o.pathStyle,
        maxAttempts: o.attemptsMax ?? 3,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.credentials ? { credentials: o.credentials } : {}),
      });
      return { s3, upload, client };
    })();
    return this.sdk;
  }

  private full(key: string): string {
    assertKey(key);
    return this.opts.prefix + key;
  }

  private where(key: string): string {
    return `${this.description}${key}`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const Key = this.full(key);
    try {
      const { s3, client } = await this.load();
      await client.send(new s3.PutObjectCommand({ Bucket: this.opts.bucket, Key, Body: bytes }));
    } catch (err) {
      throw remoteError("put of", this.where(key), err);
    }
  }

  async putFile(key: string, source: string): Promise<number> {
    const Key = this.full(key);
    try {
      const size = (await fs.promises.stat(source)).size;
      if (size <= this.partBytes) {
        await this.put(key, await fs.promises.readFile(source));
        return size;
      }
      const { upload, client } = await this.load();
      const body = fs.createReadStream(source, { highWaterMark: 1024 * 1024 });
      const task = new upload.Upload({
        client,
        params: { Bucket: this.opts.bucket, Key, Body: body },
        partSize: this.partBytes,
        queueSize: UPLOAD_PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      await task.done();
      return size;
    } catch (err) {
      throw remoteError(`put of ${source} as`, this.where(key), err);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | null> {
    assertRange(range);
    const Key = this.full(key);
    if (range !== undefined && range.length === 0) {
      return (await this.stat(key)) === null ? null : new Uint8Array(0);
    }
    try {
      const { s3, client } = await this.load();
      const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
      const r = await client.send(new s3.GetObjectCommand({ Bucket: this.opts.bucket, Key, Range }));
      if (!r.Body) return new Uint8Array(0);
      return await r.Body.transformToByteArray();
    } catch (err) {
      if (isNotFound(err)) return null;
      if (isInvalidRange(err)) return (await this.stat(key)) === null ? null : new Uint8Array(0);
      throw remoteError("get of", this.where(key), err);
    }
  }

  async getFile(key: string, target: string): Promise<number | null> {
    const Key = this.full(key);
    try {
      const { s3, client } = await this.load();
      const r = await client.send(new s3.GetObjectCommand({ Bucket: this.opts.bucket, Key }));
      await pipeline(r.Body as Readable, fs.createWriteStream(target));
      return (await fs.promises.stat(target)).size;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw remoteError(`get into ${target} of`, this.where(key), err);
    }
  }

  async stat(key: string): Promise<RemoteObject | null> {
    const Key = this.full(key);
    try {
      const { s3, client } = await this.load();
      const r = await client.send(new s3.HeadObjectCommand({ Bucket: this.opts.bucket, Key }));
      return { key, sizeBytes: r.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw remoteError("stat of", this.where(key), err);
    }
  }

  async list(prefix: string, limit = REMOTE_LIST_LIMIT_DEFAULT): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    const strip = this.opts.prefix.length;
    try {
      const { s3, client } = await this.load();
      let token: string | undefined;
      for (let page = 0; page <= limit / LIST_PAGE_MAX + 1 && out.length < limit; page++) {
        const r = await client.send(
          new s3.ListObjectsV2Command({
            Bucket: this.opts.bucket,
            Prefix: this.opts.prefix + prefix,
            MaxKeys: Math.min(LIST_PAGE_MAX, limit - out.length),
            ContinuationToken: token,
          }),
        );
        for (const o of r.Contents ?? []) {
          if (o.Key !== undefined) out.push({ key: o.Key.slice(strip), sizeBytes: o.Size ?? 0 });
        }
        if (!r.IsTruncated || !r.NextContinuationToken) break;
        token = r.NextContinuationToken;
      }
    } catch (err) {
      throw remoteError("list of", this.where(prefix), err);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit);
  }

  async delete(keys: readonly string[]): Promise<void> {
    const full = keys.map((k) => this.full(k));
    try {
      const { s3, client } = await this.load();
      for (let i = 0; i < full.length; i += DELETE_BATCH_MAX) {
        const batch = full.slice(i, i + DELETE_BATCH_MAX);
        const r = await client.send(
          new s3.DeleteObjectsCommand({
            Bucket: this.opts.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = (r.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
        if (failed.length > 0) throw new Error(`${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message}`);
      }
    } catch (err) {
      throw remoteError(`delete of ${keys.length} objects in`, this.description, err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertPrefix(prefix);
    const objects = await this.list(prefix, REMOTE_DELETE_PREFIX_MAX);
    await this.delete(objects.map((o) => o.key));
    return objects.length;
  }

  async close(): Promise<void> {
    const sdk = this.sdk;
    this.sdk = null;
    if (sdk) (await sdk.catch(() => null))?.client.destroy();
  }
}
