// GetFileSystemSecurityToken (API 1025, public): credentials for the remote file system. A server
// on a local file system (no remote credentials) answers as Fluss's does: scheme "file", an empty
// token, no expiry, no extra info. Fluss clients ask any server once a scanner exists.
//   GetFileSystemSecurityTokenRequest  {}
//   GetFileSystemSecurityTokenResponse { schema: string; token: bytes; expiration_time?: int64;
//                                        addition_info: [PbKeyValue] }

import type { ApiKeys, RequestHandler } from "@fluss-ts/rpc";

export const LOCAL_FILESYSTEM_TOKEN = { schema: "file", token: new Uint8Array(0), additionInfo: [] } as const;

export function getFileSystemSecurityTokenHandler(): RequestHandler<
  typeof ApiKeys.GET_FILESYSTEM_SECURITY_TOKEN
> {
  return async () => ({ ...LOCAL_FILESYSTEM_TOKEN, additionInfo: [] });
}
