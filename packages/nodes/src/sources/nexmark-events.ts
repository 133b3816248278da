import type { DataRecord } from "@sluice/pipeline/record-schema";

// The Nexmark event generator (persons, auctions, bids), shaped after the reference generator of Apache Beam's and
// Flink's Nexmark suites: of every 50 events 1 is a person, 3 are auctions and 46 are bids; person and auction ids
// follow from the event index (first ids 1000); sellers and bidders are "hot" people or one of the 1000 most recent
// (plus a lead of 10 not yet created), bids go to "hot" auctions or one of the 100 most recent in flight (plus 10);
// prices are log-uniform between $1 and $1M (in cents); `extra` pads events to an average size.
//
// Event i is a pure function of (parameters, i): its random draws come from a small PRNG seeded with (seed, i), so
// any partition can produce any event and a replay yields the same values. This is the benchmark's hot loop, so
// nothing is allocated per event but the record and its few short strings: text fields are slices of pools built
// once, names and channels come from tables.

export const NEXMARK_PORTS = ["person", "auction", "bid"] as const;
export type NexmarkKind = 0 | 1 | 2;
export const PERSON: NexmarkKind = 0;
export const AUCTION: NexmarkKind = 1;
export const BID: NexmarkKind = 2;

const PERSON_PROPORTION = 1;
const AUCTION_PROPORTION = 3;
const TOTAL_PROPORTION = 50;
const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const NUM_ACTIVE_PEOPLE = 1000;
const PERSON_ID_LEAD = 10;
const NUM_IN_FLIGHT_AUCTIONS = 100;
const AUCTION_ID_LEAD = 10;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
const HOT_CHANNELS_RATIO = 2;
const CHANNELS_NUMBER = 10_000;
/** Event-time rate when the source runs as fast as it can: the reference generator's default first-event rate. */
export const DEFAULT_EVENT_TIME_RATE = 10_000;
/** The reference's average sizes per kind (person 200, auction 500, bid 100 bytes) give this mean per event. */
export const REFERENCE_AVG_EVENT_BYTES = 126;

const US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES = [
  "Phoenix",
  "Los Angeles",
  "San Francisco",
  "Boise",
  "Portland",
  "Bend",
  "Redmond",
  "Seattle",
  "Kent",
  "Cheyenne",
];
const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];

export interface NexmarkParams {
  seed: number;
  /** Event time of event 0 (epoch ms). */
  baseTime: number;
  /** Events per second of event time (event i happens at baseTime + i × 1000 / rate). */
  eventTimeRate: number;
  /** Event times are moved back by up to this many ms. */
  maxOutOfOrder: number;
  avgEventBytes: number;
  hotAuctionRatio: number;
  hotSellersRatio: number;
  hotBiddersRatio: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Text pools and tables, the same for every seed (the seed picks from them); built once. */
class Tables {
  /** Lower-case words with a space about every 13th letter, as the reference's nextString draws them. */
  readonly words: string;
  /** Lower-case letters only, for `extra` (the reference's nextExactString). */
  readonly letters: string;
  readonly names = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));
  readonly cardGroups = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"));
  readonly channels: string[] = [];
  readonly urls: string[] = [];
  readonly hotUrls: string[];

  constructor() {
    let s = 0x6e65786d; // "nexm"
    const next = () => {
      s = (s + 0x6d2b79f5) | 0;
      return fmix32(s);
    };
    const wordChars: string[] = [];
    for (let i = 0; i < 1 << 16; i++) {
      const r = next();
      wordChars.push(r % 13 === 0 ? " " : String.fromCharCode(97 + ((r >>> 8) % 26)));
    }
    this.words = wordChars.join("");
    const letterChars: string[] = [];
    for (let i = 0; i < LETTERS_LENGTH; i++) letterChars.push(String.fromCharCode(97 + (next() % 26)));
    this.letters = letterChars.join("");
    const word = (n: number) => {
      const at = next() % (this.words.length - n);
      return this.words.slice(at, at + n).replace(/ /g, "_");
    };
    const baseUrl = () => `https://www.nexmark.com/${word(5)}/${word(5)}/${word(5)}/item.htm?query=1`;
    this.hotUrls = HOT_CHANNELS.map(baseUrl);
    for (let c = 0; c < CHANNELS_NUMBER; c++) {
      this.channels.push(`channel-${c}`);
      // The reference's channel id: the absolute value of the bit-reversed channel number.
      let reversed = 0;
      for (let b = 0; b < 32; b++) reversed = (reversed << 1) | ((c >>> b) & 1);
      this.urls.push(`${baseUrl()}&channel_id=${Math.abs(reversed | 0)}`);
    }
  }
}

/**
 * The letters pool's fixed size: it must hold the longest `extra` (1.2 × the auction average at the largest
 * avgEventBytes, 10,000: 47,620 characters) with room for offsets. Fixed, since the pool's size decides which
 * slice a draw picks: a size depending on the config would make events depend on it.
 */
const LETTERS_LENGTH = 1 << 17;

let tables: Tables | undefined;
function sharedTables(): Tables {
  tables ??= new Tables();
  return tables;
}

/** Base-0 id of the last person created at or before event i. */
function lastBase0PersonId(i: number): number {
  const epoch = Math.floor(i / TOTAL_PROPORTION);
  let offset = i % TOTAL_PROPORTION;
  if (offset >= PERSON_PROPORTION) offset = PERSON_PROPORTION - 1;
  return epoch * PERSON_PROPORTION + offset;
}

/** Base-0 id of the last auction created at or before event i. */
function lastBase0AuctionId(i: number): number {
  let epoch = Math.floor(i / TOTAL_PROPORTION);
  let offset = i % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
}

/** Which kind event i is: of every 50, 1 person, then 3 auctions, then 46 bids. */
export function nexmarkKind(i: number): NexmarkKind {
  const rem = i % TOTAL_PROPORTION;
  return rem < PERSON_PROPORTION ? PERSON : rem < PERSON_PROPORTION + AUCTION_PROPORTION ? AUCTION : BID;
}

export class NexmarkGenerator {
  private readonly t: Tables;
  private readonly seedMix: number;
  private readonly personBytes: number;
  private readonly auctionBytes: number;
  private readonly bidBytes: number;
  private readonly auctionHorizonEvents = Math.floor((NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION) / AUCTION_PROPORTION);
  /** PRNG state of the event being generated. */
  private s = 0;

  constructor(private readonly p: NexmarkParams) {
    const scale = p.avgEventBytes / REFERENCE_AVG_EVENT_BYTES;
    this.personBytes = Math.round(200 * scale);
    this.auctionBytes = Math.round(500 * scale);
    this.bidBytes = Math.round(100 * scale);
    this.t = sharedTables();
    this.seedMix = fmix32((p.seed | 0) ^ 0x9e3779b9);
  }

  /** Event i's record; its kind (and output port) is nexmarkKind(i). */
  event(i: number): DataRecord {
    this.seedEvent(i);
    const shift = this.p.maxOutOfOrder > 0 ? this.int(this.p.maxOutOfOrder + 1) : 0;
    const dateTime = this.timeOf(i) - shift;
    const kind = nexmarkKind(i);
    if (kind === BID) return this.bid(i, dateTime);
    return kind === AUCTION ? this.auction(i, dateTime) : this.person(i, dateTime);
  }

  /** In-order event time of event i (before any out-of-orderness). */
  timeOf(i: number): number {
    // i × 1000 / rate rather than i × (1000 / rate): exact for integral rates, so event times never drift.
    return this.p.baseTime + Math.floor((i * 1000) / this.p.eventTimeRate);
  }

  private seedEvent(i: number): void {
    const lo = i >>> 0;
    const hi = Math.floor(i / 4294967296) >>> 0;
    this.s = fmix32(fmix32(this.seedMix ^ lo) ^ Math.imul(hi + 1, 0x27d4eb2f));
  }

  /** mulberry32: the next 32 random bits. */
  private next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in [0, n). */
  private int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }

  /** Log-uniform between 100 and 100,000,000 cents, as the reference's nextPrice. */
  private price(): number {
    return Math.round(Math.exp((this.next() / 4294967296) * 6 * Math.LN10) * 100);
  }

  /** Text of 3 to maxLength - 1 characters, from the word pool. */
  private text(maxLength: number): string {
    const length = 3 + this.int(maxLength - 3);
    const at = this.int(this.t.words.length - length);
    return this.t.words.slice(at, at + length).trim();
  }

  /** Padding so that events of this kind average `average` bytes, counting `size` for the other fields. */
  private extra(size: number, average: number): string {
    if (size > average) return "";
    const wanted = average - size;
    const delta = Math.round(wanted * 0.2);
    const length = wanted - delta + (delta === 0 ? 0 : this.int(2 * delta));
    const at = this.int(this.t.letters.length - length);
    return this.t.letters.slice(at, at + length);
  }

  /** A seller or bidder: one of the most recent active people, or a few not yet created (the reference's lead). */
  private nextBase0PersonId(i: number): number {
    const numPeople = lastBase0PersonId(i) + 1;
    const active = Math.min(numPeople, NUM_ACTIVE_PEOPLE);
    return numPeople - active + this.int(active + PERSON_ID_LEAD);
  }

  private nextBase0AuctionId(i: number): number {
    const last = lastBase0AuctionId(i);
    const min = Math.max(last - NUM_IN_FLIGHT_AUCTIONS, 0);
    return min + this.int(last - min + 1 + AUCTION_ID_LEAD);
  }

  private person(i: number, dateTime: number): DataRecord {
    const t = this.t;
    const name = t.names[this.int(t.names.length)]!;
    const emailAddress = `${this.text(7)}@${this.text(5)}.com`;
    const g = t.cardGroups;
    const creditCard = `${g[this.int(10_000)]} ${g[this.int(10_000)]} ${g[this.int(10_000)]} ${g[this.int(10_000)]}`;
    const city = US_CITIES[this.int(US_CITIES.length)]!;
    const state = US_STATES[this.int(US_STATES.length)]!;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    return {
      id: lastBase0PersonId(i) + FIRST_PERSON_ID,
      name,
      emailAddress,
      creditCard,
      city,
      state,
      dateTime,
      extra: this.extra(size, this.personBytes),
    };
  }

  private auction(i: number, dateTime: number): DataRecord {
    const seller =
      (this.int(this.p.hotSellersRatio) > 0
        ? Math.floor(lastBase0PersonId(i) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        : this.nextBase0PersonId(i)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + this.int(NUM_CATEGORIES);
    const initialBid = this.price();
    // Auctions last twice, on average, the event time it takes for the next 100 auctions to be created.
    const horizon = this.timeOf(i + this.auctionHorizonEvents) - this.timeOf(i);
    const expires = dateTime + 1 + this.int(Math.max(horizon * 2, 1));
    const itemName = this.text(20);
    const description = this.text(100);
    const reserve = initialBid + this.price();
    const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
    return {
      id: lastBase0AuctionId(i) + FIRST_AUCTION_ID,
      itemName,
      description,
      initialBid,
      reserve,
      dateTime,
      expires,
      seller,
      category,
      extra: this.extra(size, this.auctionBytes),
    };
  }

  private bid(i: number, dateTime: number): DataRecord {
    const auction =
      (this.int(this.p.hotAuctionRatio) > 0
        ? Math.floor(lastBase0AuctionId(i) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
        : this.nextBase0AuctionId(i)) + FIRST_AUCTION_ID;
    // Hot bidders are the second person of their hundred, so they never coincide with hot sellers.
    const bidder =
      (this.int(this.p.hotBiddersRatio) > 0
        ? Math.floor(lastBase0PersonId(i) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
        : this.nextBase0PersonId(i)) + FIRST_PERSON_ID;
    const price = this.price();
    let channel: string;
    let url: string;
    if (this.int(HOT_CHANNELS_RATIO) > 0) {
      const k = this.int(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[k]!;
      url = this.t.hotUrls[k]!;
    } else {
      const c = this.int(CHANNELS_NUMBER);
      channel = this.t.channels[c]!;
      url = this.t.urls[c]!;
    }
    // As in the reference, a bid's size counts its four numbers only.
    return { auction, bidder, price, channel, url, dateTime, extra: this.extra(32, this.bidBytes) };
  }
}
