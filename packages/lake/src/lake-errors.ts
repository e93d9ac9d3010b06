// Errors of the lake package, as FlussErrors with Fluss wire codes: a lake table that does not
// match its Fluss table, unreadable lake metadata or files, a commit that lost a race.

import { Errors, FlussError } from "@fluss-ts/common";

/** A lake file or schema that does not fit the table (refused, never guessed around). */
export function lakeColumnsError(message: string): FlussError {
  return new FlussError(Errors.INVALID_TABLE_EXCEPTION, message);
}

/** Lake metadata or data that cannot be read or is inconsistent. */
export function lakeStorageError(message: string, cause?: unknown): FlussError {
  return new FlussError(Errors.STORAGE_EXCEPTION, message, cause === undefined ? undefined : { cause });
}

/** Another writer committed first: the round is abandoned and planned again. */
export class CommitConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommitConflict";
  }
}
