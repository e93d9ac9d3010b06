// Which remote storage `remote.data.dir` names: `s3://bucket[/prefix]` is an S3-compatible object
// store (settings from the `s3.*` server options, credentials from the environment); a path, or a
// `file://` URI, is a local directory. Refused values are INVALID_CONFIG_EXCEPTION.

import { Errors, FlussError } from "@fluss-ts/common";
import { LocalFileStorage } from "./local-file-storage.ts";
import { isRemoteKey, type RemoteStorage } from "./remote-storage.ts";
import { S3Storage } from "./s3-storage.ts";

/** The `s3.*` server options (Fluss's names); credentials are not among them. */
export interface S3Settings {
  /** `s3.endpoint`: an S3-compatible store's URL; null for AWS itself. */
  readonly endpoint: string | null;
  /** `s3.region`. */
  readonly region: string;
  /** `s3.path.style.access`: null means true with an endpoint, false without. */
  readonly pathStyleAccess: boolean | null;
}

export const S3_SETTINGS_DEFAULT: S3Settings = { endpoint: null, region: "us-east-1", pathStyleAccess: null };

function invalid(message: string): FlussError {
  return new FlussError(Errors.INVALID_CONFIG_EXCEPTION, `remote.data.dir: ${message}`);
}

/** Bucket and key prefix of an `s3://` URI; throws INVALID_CONFIG_EXCEPTION when malformed. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(uri);
  if (!m) throw invalid(`'${uri}' is not s3://<bucket>[/<path>] with a valid bucket name`);
  const path = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (path !== "" && !isRemoteKey(path))
    throw invalid(`the path of '${uri}' has characters keys cannot hold`);
  return { bucket: m[1]!, prefix: path === "" ? "" : `${path}/` };
}

/** True when `dir` names an object store rather than a local directory. */
export function isObjectStoreUri(dir: string): boolean {
  return /^s3a?:\/\//.test(dir);
}

/** Check `remote.data.dir` without opening anything (config validation). */
export function checkRemoteDataDir(dir: string): void {
  if (dir.trim() === "") throw invalid("must not be empty");
  if (isObjectStoreUri(dir)) parseS3Uri(dir);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir) && !dir.startsWith("file://"))
    throw invalid(`'${dir}': only local paths, file:// and s3:// are supported`);
}

/** The remote storage `dir` names. */
export function openRemoteStorage(dir: string, s3: S3Settings = S3_SETTINGS_DEFAULT): RemoteStorage {
  checkRemoteDataDir(dir);
  if (isObjectStoreUri(dir)) {
    const { bucket, prefix } = parseS3Uri(dir);
    return new S3Storage({
      bucket,
      prefix,
      region: s3.region,
      pathStyle: s3.pathStyleAccess ?? s3.endpoint !== null,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    });
  }
  return new LocalFileStorage(dir.startsWith("file://") ? new URL(dir).pathname : dir);
}
