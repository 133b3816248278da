import { Duration } from "@sluice/pipeline/duration";
import { parseTimestamp } from "@sluice/pipeline/expr/time";
import { defineNode } from "@sluice/pipeline/node-definition";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { DEFAULT_EVENT_TIME_RATE, REFERENCE_AVG_EVENT_BYTES } from "./nexmark-events";

const hotRatio = (label: string, what: string, fallback: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(fallback)
    .meta({
      label,
      help: `${what} with probability 1 − 1/ratio (the reference's default, ${fallback}, gives ${100 - 100 / fallback}%); 1 turns the skew off.`,
      advanced: true,
    });

const StartTime = z.union([z.number().int().min(0).max(8_640_000_000_000_000), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const ms = parseTimestamp(v.trim(), "UTC");
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a time; write ISO 8601 (2015-07-15T00:00:00Z) or epoch ms`,
    });
    return z.NEVER;
  }
  return ms;
});

const config = z.strictObject({
  events: z
    .number()
    .int()
    .min(1)
    .max(1e15)
    .optional()
    .meta({ label: "Events", help: "How many events in all (persons, auctions and bids); empty runs until stopped." }),
  rate: z
    .number()
    .min(0)
    .max(100_000_000)
    .default(DEFAULT_EVENT_TIME_RATE)
    .meta({
      label: "Rate (events/s)",
      help: `Events per second across all partitions; 0 emits as fast as possible (event time then advances as at ${DEFAULT_EVENT_TIME_RATE.toLocaleString("en-US")}/s).`,
    }),
  seed: z
    .number()
    .int()
    .default(1)
    .meta({ label: "Seed", help: "The same seed gives the same events.", advanced: true }),
  startTime: StartTime.optional().meta({
    label: "Start time",
    help: "Event time of the first event (ISO 8601 or epoch ms). Empty: when the run was created. Set it to make event times, and so results, identical across runs.",
    advanced: true,
  }),
  maxOutOfOrder: Duration.default(0).meta({
    label: "Out-of-orderness",
    help: "Each event's time is moved back by a random amount up to this much (e.g. 2s), to exercise watermarks. It also changes the events themselves: the same seed gives other people, prices and bids than without it.",
    advanced: true,
    widget: "duration",
  }),
  avgEventBytes: z
    .number()
    .int()
    .min(32)
    .max(10_000)
    .default(REFERENCE_AVG_EVENT_BYTES)
    .meta({
      label: "Average event size (bytes)",
      help: `The extra field pads events to this mean size; ${REFERENCE_AVG_EVENT_BYTES} is the reference's (persons 200, auctions 500, bids 100 bytes).`,
      advanced: true,
    }),
  hotAuctionRatio: hotRatio("Hot auction ratio", "A bid goes to a hot auction", 2),
  hotSellersRatio: hotRatio("Hot seller ratio", "An auction is by a hot seller", 4),
  hotBiddersRatio: hotRatio("Hot bidder ratio", "A bid is by a hot bidder", 4),
});

export type NexmarkConfig = z.output<typeof config>;

export const NEXMARK_EVENT_TIME_FIELD = "dateTime";

const schema = (fields: RecordSchema["fields"]): RecordSchema => ({
  fields,
  open: false,
  eventTime: NEXMARK_EVENT_TIME_FIELD,
});

export const NEXMARK_SCHEMAS: Readonly<Record<"person" | "auction" | "bid", RecordSchema>> = {
  person: schema([
    field("id", t.int, false, "person id, from 1000 in creation order"),
    field("name", t.string),
    field("emailAddress", t.string),
    field("creditCard", t.string),
    field("city", t.string),
    field("state", t.string),
    field("dateTime", t.timestamp, false, "event time"),
    field("extra", t.string, false, "padding"),
  ]),
  auction: schema([
    field("id", t.int, false, "auction id, from 1000 in creation order"),
    field("itemName", t.string),
    field("description", t.string),
    field("initialBid", t.int, false, "cents"),
    field("reserve", t.int, false, "cents"),
    field("dateTime", t.timestamp, false, "event time"),
    field("expires", t.timestamp),
    field("seller", t.int, false, "person id"),
    field("category", t.int),
    field("extra", t.string, false, "padding"),
  ]),
  bid: schema([
    field("auction", t.int, false, "auction id"),
    field("bidder", t.int, false, "person id"),
    field("price", t.int, false, "cents"),
    field("channel", t.string),
    field("url", t.string),
    field("dateTime", t.timestamp, false, "event time"),
    field("extra", t.string, false, "padding"),
  ]),
};

export const nexmarkDef = defineNode({
  type: "source.nexmark",
  version: 1,
  kind: "source",
  title: "Nexmark",
  category: "Testing",
  icon: "gavel",
  summary: "The Nexmark benchmark's online auction: persons, auctions and bids, seeded.",
  docs: `Generates the event streams of the [Nexmark](https://github.com/nexmark/nexmark) benchmark, an online auction
site: people register (\`person\`), open auctions (\`auction\`) and bid on them (\`bid\`). Each kind leaves on its own
output with a closed, typed schema, so the benchmark queries (q0 … q8) can be written as ordinary pipelines.

The shape follows the reference generator of the Beam and Flink Nexmark suites:

- of every 50 events, 1 is a person, 3 are auctions and 46 are bids (event *i*'s kind is decided by *i* mod 50);
- person and auction ids are assigned in creation order from 1000, so they follow from the event number;
- auctions are by a *hot* seller (the first person of the latest hundred) with probability 1 − 1/*hot seller
  ratio*, otherwise by one of the 1,000 most recent people or one of the next 10 (a bid may name a person or
  auction that appears slightly later, as in the reference); bids go to a hot auction (the first of the latest
  hundred) with probability 1 − 1/*hot auction ratio*, otherwise to one of the 100 most recent auctions (plus 10);
  bidders are hot (the second person of the latest hundred) with probability 1 − 1/*hot bidder ratio*;
- prices (\`initialBid\`, \`reserve\`, \`price\`) are in cents, log-uniform from $1 to $1,000,000; auction categories
  are 10 … 14; auctions expire after a random time averaging twice the time it takes 100 new auctions to appear;
  half the bids come from four hot channels, the rest from 10,000 others;
- \`extra\` pads events so that their mean size is *Average event size*: the reference's per-kind averages (person
  200, auction 500, bid 100 bytes, counting 8 bytes per number and the length of the text fields) are scaled to
  it, and each event's padding varies by ±20 %.

**Determinism.** Event *i* is a pure function of the seed, the settings and *i*. Partition *p* of *P* emits events
*p*, *p + P*, *p + 2P*, … and its committed offset is how many it has emitted, so every partitioning yields the same
events and a restarted task continues exactly where the last commit left off: the source is replayable.

**Event time.** \`dateTime\` (epoch ms) is the event time of all three outputs: event *i* happens at
*start* + ⌊*i* × 1000 / *rate*⌋, where *start* is *Start time* (default: when the run was created) and *rate* the
configured rate, or ${DEFAULT_EVENT_TIME_RATE.toLocaleString("en-US")} events/s — the reference's default — when the rate is 0. So windows hold the same
events however fast the generator actually runs. A *Rate* above 0 also paces emission to the wall clock.

**Out-of-orderness.** When it is set, each event's time is moved back by a random amount up to that bound (so the
first events may fall before *Start time*), and an auction's \`expires\` moves with it. That amount is drawn first
from the event's own random stream, so every other random value of the event changes too: with the same seed, a run
with *Out-of-orderness* sees other names, prices, sellers, bidders and auctions bid on than a run without it. The
events stay a pure function of the seed and the settings, so two runs with the same *Out-of-orderness* agree.`,
  inputs: [],
  outputs: [
    { name: "person", title: "Persons", doc: "new users" },
    { name: "auction", title: "Auctions", doc: "new auctions" },
    { name: "bid", title: "Bids", doc: "bids on auctions" },
  ],
  config,
  examples: [
    { title: "Endless auction traffic at 10,000 events/s", config: {} },
    {
      title: "Ten million events as fast as possible, reproducible",
      config: { events: 10_000_000, rate: 0, startTime: "2015-07-15T00:00:00Z" },
    },
  ],
  delivery: { replayable: true },
  infer: () => ({ outputs: { ...NEXMARK_SCHEMAS } }),
  eventTimeField: () => NEXMARK_EVENT_TIME_FIELD,
  summarize: (c) =>
    `${c.events === undefined ? "endless" : `${c.events.toLocaleString("en-US")} events`} · ${c.rate === 0 ? "max rate" : `${c.rate.toLocaleString("en-US")}/s`}`,
});
