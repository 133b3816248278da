// Shared by the browser's batch link and the server's endpoint: a batch of more calls is refused by the server, so
// the client splits its batches at the same size.

/** Calls one tRPC HTTP request may carry. */
export const MAX_BATCH_CALLS = 20;
