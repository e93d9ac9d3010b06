// Dropping a table or a partition: record the removal in the metadata store, then delete the data
// (stop the replicas with deleteData). That order means a crash in between leaves no entry the
// store lists without data. The exception is a disk so full that the store cannot record the
// removal even after giving back its reserve: then the data is deleted first (deleting files needs
// no space and frees plenty) and the removal recorded after. If that second attempt fails too, the
// drop fails and the entry stays listed, with its data gone (a restart recreates its replicas
// empty); a retried drop then records it.
// `startDeletion` queues the deletions and returns their answers; on the normal path they are not
// awaited here (the caller awaits `deleted` outside the coordinator's queue); on the full-disk path
// they are, since the removal can only be recorded once space was freed.

import { isDiskFull } from "@fluss-ts/storage";
import type { Logger } from "../logging.ts";

export async function removeThenDeleteData<T>(
  what: string,
  logger: Logger,
  remove: () => Promise<void>,
  startDeletion: () => Promise<T>,
): Promise<{ deleted: Promise<T> }> {
  try {
    await remove();
  } catch (err) {
    if (!isDiskFull(err)) throw err;
    logger.warn({ err, drop: what }, "the disk is full: deleting the data first to record the drop");
    const deleted = await startDeletion();
    await remove();
    return { deleted: Promise.resolve(deleted) };
  }
  return { deleted: startDeletion() };
}
