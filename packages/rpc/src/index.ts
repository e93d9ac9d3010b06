// Public entry of @fluss-ts/rpc: the API-key table, Fluss wire framing, the client connection,
// the server, and the generated protobuf messages with the protobuf-es functions that build them.

export type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
export { create, fromBinary, isFieldSet, toBinary } from "@bufbuild/protobuf";
export * from "./api-keys.ts";
export * from "./connection.ts";
export * from "./constants.ts";
export * from "./env.ts";
export * from "./frame.ts";
export * from "./gen/fluss/api_pb.ts";
export * from "./server.ts";
export * from "./transport.ts";
export * from "./wire-errors.ts";
