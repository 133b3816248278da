import type { PipelineDefinitionInput } from "@sluice/pipeline/definition";

// The Nexmark queries of `npm run bench -- engine` as ordinary Sluice pipeline definitions: source.nexmark →
// the query's nodes → sink.discard (id "out", which counts, digests and, in paced runs, measures latency). Each
// query follows the standard Nexmark semantics (Beam / Flink suites) as far as Sluice's nodes express them; where
// they differ, the comment says how. engine-limits.ts computes the same records with a plain loop.

export const QUERIES = ["q0", "q1", "q2", "q5", "q7", "q8", "latency"] as const;
export type QueryName = (typeof QUERIES)[number];

/** The id of the sink.discard node in every query. */
export const SINK_NODE = "out";

/** Event time of event 0 in unpaced runs (rate 0): fixed, so every run sees the same events and windows. */
export const FIXED_START_TIME = Date.UTC(2015, 6, 15); // 2015-07-15T00:00:00Z, the Nexmark reference's

export interface QueryOptions {
  events: number;
  /** Events per second across all partitions; 0 = as fast as possible (event time then advances 10,000/s). */
  rate: number;
  /** Event time of event 0 (epoch ms). */
  startTime: number;
  partitions: number;
  batchSize?: number;
}

export interface QuerySpec {
  name: QueryName;
  /** What the query computes, in one line. */
  title: string;
  /** The sink's latencyField in paced runs (an event-time field of the records reaching it), if meaningful. */
  latencyField: string | undefined;
  definition(o: QueryOptions, latency: boolean): PipelineDefinitionInput;
}

type Node = { id: string; type: string; config: Record<string, unknown> };
type Edge = { from: string; to: string; fromPort?: string; toPort?: string };

function pipeline(
  name: string,
  o: QueryOptions,
  nodes: Node[],
  edges: Edge[],
  latencyField: string | undefined,
): PipelineDefinitionInput {
  const source: Node = {
    id: "src",
    type: "source.nexmark",
    config: { events: o.events, rate: o.rate, startTime: o.startTime },
  };
  const sink: Node = {
    id: SINK_NODE,
    type: "sink.discard",
    config: latencyField !== undefined ? { latencyField } : {},
  };
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: `bench-${name}` },
    spec: {
      settings: {
        parallelism: o.partitions,
        delivery: "exactly-once",
        ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
      },
      nodes: [source, ...nodes, sink],
      edges,
    },
  };
}

export const QUERY_SPECS: Record<QueryName, QuerySpec> = {
  // q0 — passthrough: every bid, unchanged. One fused stage: src.bid → out.
  q0: {
    name: "q0",
    title: "passthrough of bids",
    latencyField: "dateTime",
    definition: (o, latency) =>
      pipeline("q0", o, [], [{ from: "src", fromPort: "bid", to: SINK_NODE }], latency ? "dateTime" : undefined),
  },

  // q1 — currency conversion: each bid with its price in euros, SELECT auction, bidder, 0.908 * price AS price,
  // dateTime, extra FROM bid (channel and url are kept too: Map replaces `price` in place, the record is otherwise
  // the bid). One fused stage: src.bid → map → out.
  q1: {
    name: "q1",
    title: "currency conversion, price * 0.908",
    latencyField: "dateTime",
    definition: (o, latency) =>
      pipeline(
        "q1",
        o,
        [{ id: "euro", type: "transform.map", config: { set: { price: "price * 0.908" } } }],
        [
          { from: "src", fromPort: "bid", to: "euro" },
          { from: "euro", to: SINK_NODE },
        ],
        latency ? "dateTime" : undefined,
      ),
  },

  // q2 — selection: SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0 (the Beam suite's predicate;
  // Flink's variant lists five auction ids instead). dateTime is kept as well, as the row time, so paced runs can
  // measure latency. One fused stage: src.bid → filter → select → out.
  q2: {
    name: "q2",
    title: "selection, auction % 123 = 0",
    latencyField: "dateTime",
    definition: (o, latency) =>
      pipeline(
        "q2",
        o,
        [
          { id: "pick", type: "transform.filter", config: { where: "auction % 123 = 0" } },
          { id: "cols", type: "transform.select", config: { fields: ["auction", "price", "dateTime"] } },
        ],
        [
          { from: "src", fromPort: "bid", to: "pick" },
          { from: "pick", to: "cols" },
          { from: "cols", to: SINK_NODE },
        ],
        latency ? "dateTime" : undefined,
      ),
  },

  // q5 — hot items: bids per auction in hopping windows of 10 s every 2 s (transform.window keyed by auction,
  // count(*) AS bids), then, per window, the auction with the most bids (transform.topn n = 1 with no window of
  // its own: it ranks within each row's window_start/window_end, and closes a window when the watermark reaches
  // its end). Standard q5 returns every auction tied for the maximum; a top-N keeps exactly N, so ties are broken
  // deterministically by the lower auction id (rank by bids * 10^9 − auction: counts stay far below 10^6 and
  // auction ids below 10^9, so the order is by bids, then by auction ascending). Output per window: auction,
  // window_start, window_end, window_time, bids, rank = 1. Three stages: src (P) → by auction → window (P) →
  // gathered → topn + out (1).
  q5: {
    name: "q5",
    title: "hot items: top auction by bids per 10 s window, every 2 s",
    latencyField: "window_time",
    definition: (o, latency) =>
      pipeline(
        "q5",
        o,
        [
          {
            id: "count",
            type: "transform.window",
            config: {
              key: ["auction"],
              window: { hop: { size: "10s", every: "2s" } },
              aggregates: { bids: "count(*)" },
            },
          },
          { id: "hot", type: "transform.topn", config: { orderBy: "bids * 1000000000 - auction", n: 1 } },
        ],
        [
          { from: "src", fromPort: "bid", to: "count" },
          { from: "count", to: "hot" },
          { from: "hot", to: SINK_NODE },
        ],
        latency ? "window_time" : undefined,
      ),
  },

  // q7 — highest bid: per tumbling 10 s window, the bid with the highest price (transform.topn n = 1 by price,
  // no key, so one global ranking per window). Standard q7 returns every bid tied at the maximum; top-1 keeps the
  // first to arrive (the limit checks that no window has a tie, so the result is the same). Output: the bid's
  // fields, rank = 1, window_start, window_end, window_time. Two stages: src (P) → gathered → topn + out (1).
  q7: {
    name: "q7",
    title: "highest bid per 10 s tumbling window",
    latencyField: "window_time",
    definition: (o, latency) =>
      pipeline(
        "q7",
        o,
        [{ id: "best", type: "transform.topn", config: { window: { tumble: "10s" }, orderBy: "price", n: 1 } }],
        [
          { from: "src", fromPort: "bid", to: "best" },
          { from: "best", to: SINK_NODE },
        ],
        latency ? "window_time" : undefined,
      ),
  },

  // q8 — new users: people who opened an auction in the same 10 s tumbling window in which they registered
  // (transform.join type window, inner, persons on id = auctions on seller), one row per (person, auction) pair
  // as in the Beam suite, projected to id, name, reserve (the Beam output) plus the window bounds. Pairs are
  // emitted as soon as both sides have arrived, before the window closes, so latency from an event-time field is
  // not measured. Two stages: src (P) → by person id / by seller → join + select + out (P).
  q8: {
    name: "q8",
    title: "new users: persons joined with their auctions in 10 s tumbling windows",
    latencyField: undefined,
    definition: (o) =>
      pipeline(
        "q8",
        o,
        [
          {
            id: "join",
            type: "transform.join",
            config: {
              on: { left: ["id"], right: ["seller"] },
              type: "window",
              window: { tumble: "10s" },
              rightPrefix: "auction_",
            },
          },
          {
            id: "cols",
            type: "transform.select",
            config: { fields: ["id", "name", "reserve", "window_start", "window_end"] },
          },
        ],
        [
          { from: "src", fromPort: "person", to: "join", toPort: "left" },
          { from: "src", fromPort: "auction", to: "join", toPort: "right" },
          { from: "join", to: "cols" },
          { from: "cols", to: SINK_NODE },
        ],
        undefined,
      ),
  },

  // latency — one shuffle: bids, paced (rate R, event time ≈ wall clock), through transform.dedupe keyed by the
  // whole bid (all fields but url, which follows from channel) within 1 s, into the sink measuring latency from
  // dateTime. Keyed, so the bids are shuffled by that key: a keyed pass-through that still does a dedupe's work
  // per record (a state lookup and insert, committed with the batch). A narrower key such as (auction, bidder,
  // dateTime) finds "duplicates" that are different bids (hot auctions and bidders share a millisecond often),
  // and which of two such bids passes would depend on arrival timing, so the output could not be compared with
  // the limit's. Two stages: src (P) → by key → dedupe + out (P).
  latency: {
    name: "latency",
    title: "one shuffle: bids deduplicated by their fields within 1 s",
    latencyField: "dateTime",
    definition: (o) =>
      pipeline(
        "latency",
        o,
        [
          {
            id: "dedupe",
            type: "transform.dedupe",
            config: { key: ["auction", "bidder", "price", "channel", "dateTime", "extra"], within: "1s" },
          },
        ],
        [
          { from: "src", fromPort: "bid", to: "dedupe" },
          { from: "dedupe", to: SINK_NODE },
        ],
        "dateTime",
      ),
  },
};
