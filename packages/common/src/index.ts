// Public entry of @fluss-ts/common: data types, schemas, options, errors and the record formats
// shared by the client, the RPC layer, storage and the server.
export * from "./errors.ts";
export * from "./options.ts";
export * from "./record/log-batch.ts";
export * from "./schema.ts";
export * from "./types.ts";
