// Limits and defaults of the RPC layer in one place (units last in every name). Every queue and
// buffer in rpc is bounded by one of these; callers may lower or raise them through options.

/** Largest frame accepted, counting its 4-byte length prefix (Fluss netty.server.max-request-size). */
export const frameBytesMaxDefault = 100 * 1024 * 1024;

/** Request header after the length prefix: i16 api key, i16 api version, i32 request id. */
export const requestHeaderBytes = 8;
/** Success/error response header after the length prefix: i8 type, i32 request id. */
export const responseHeaderBytes = 5;
/** Server-failure header after the length prefix: i8 type. */
export const serverFailureHeaderBytes = 1;
/** The length prefix itself. */
export const lengthPrefixBytes = 4;

/** Client: requests sent and not yet answered on one connection; more callers wait for a slot. */
export const clientRequestsInFlightMaxDefault = 1024;
/** Client: callers waiting for an in-flight slot on one connection; beyond this a call fails fast. */
export const clientRequestsWaitingMaxDefault = 65_536;
/**
 * Client: a connection with no call pending and no traffic for this long closes itself (Kafka's
 * client connections.max.idle.ms, 9 min: shorter than the server's 10, so the client closes first
 * and the server's idle close does not race a request in transit).
 */
export const clientConnectionIdleMsMaxDefault = 540_000;
/** Client: time to establish the TCP connection. */
export const connectTimeoutMsDefault = 10_000;
/** Client: time from `request()` to its response, waiting for a slot included (Fluss client.request-timeout). */
export const requestTimeoutMsDefault = 30_000;

/** Server: open connections; further connections are closed at once. */
export const serverConnectionsMaxDefault = 4096;
/** Server: requests decoded and not yet answered on one connection; reading pauses at the limit. */
export const serverRequestsInFlightMaxDefault = 256;
/**
 * Server: bytes of incoming requests held at once over all connections: every frame whose length
 * prefix has arrived reserves its whole size until its handler finished (Kafka's
 * queued.max.request.bytes, with Kafka's reserve-at-header rule). A connection that cannot reserve
 * stops reading until others release. 256 MiB: two frames of the largest default size
 * (`frameBytesMaxDefault`, the server config's 128 MiB) fit at once, and the memory a stalled or
 * flooding peer can pin stays well below the machine (issue 11: 32 stalled peers took 1.3 GiB).
 */
export const serverRequestBufferBytesMaxDefault = 256 * 1024 * 1024;
/**
 * Server: time a started request frame may take to arrive in full (from its first byte, or from
 * when the server resumed reading it); then the connection is closed. Time the server itself
 * paused reading (backpressure) does not count.
 */
export const serverRequestReadTimeoutMsDefault = 30_000;
/**
 * Server: a connection with no request in flight, no partial frame and no bytes read or written
 * for this long is closed (Kafka connections.max.idle.ms, 10 min).
 */
export const serverConnectionIdleMsMaxDefault = 600_000;
/** Server: time `close()` waits for in-flight handlers before destroying connections. */
export const serverCloseTimeoutMsDefault = 10_000;
/** Server: longest error message sent back for an unexpected failure (Fluss cuts at 2048). */
export const errorMessageCharsMax = 2048;

/** Bodies up to this size are copied behind their header into one write; larger ones are written as two. */
export const frameCopyBytesMax = 16 * 1024;
