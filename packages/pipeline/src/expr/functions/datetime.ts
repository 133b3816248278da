import { t } from "../../record-schema";
import { closestName } from "../../suggest";
import { ExprFault } from "../errors";
import {
  checkTimeZone,
  EXTRACT_FIELDS,
  extractField,
  isExtractField,
  isTruncUnit,
  isValidTimeZone,
  knownTimeZones,
  parseTimestamp,
  TRUNC_UNITS,
  truncateTimestamp,
} from "../time";
import { compileFormat, type FormatToken, formatTimestamp, parseWithFormat } from "../timestamp-format";
import { isDynamic } from "../type-rules";
import { type ArgInfo, type ArgProblem, defineFunction, type ScalarFunctionDef } from "./define";

// Date-time functions. Timestamps are epoch milliseconds; wall-clock fields are read in the zone given as the
// last argument, or the pipeline's default zone (`timeZone` option, UTC unless set).

function constantString(a: ArgInfo | undefined): string | undefined {
  return a?.constant && typeof a.value === "string" ? a.value : undefined;
}

function zoneProblem(args: readonly ArgInfo[], index: number): ArgProblem | undefined {
  const zone = constantString(args[index]);
  if (zone === undefined || isValidTimeZone(zone)) return undefined;
  const suggestion = closestName(zone, knownTimeZones());
  return { index, message: `Unknown time zone '${zone}'${suggestion ? `; did you mean '${suggestion}'?` : ""}` };
}

function choiceProblem(
  args: readonly ArgInfo[],
  index: number,
  what: string,
  choices: readonly string[],
): ArgProblem | undefined {
  const value = constantString(args[index]);
  if (value === undefined || choices.includes(value.toLowerCase())) return undefined;
  return { index, message: `Unknown ${what} '${value}'; expected one of ${choices.join(", ")}` };
}

function formatProblem(args: readonly ArgInfo[], index: number): ArgProblem | undefined {
  const pattern = constantString(args[index]);
  if (pattern === undefined) return undefined;
  const compiled = compileFormat(pattern);
  return compiled.ok ? undefined : { index, message: compiled.message };
}

function zoneOf(defaultZone: string, zone: string | undefined): string {
  if (zone === undefined) return defaultZone;
  checkTimeZone(zone);
  return zone;
}

/** A pattern argument: parsed once when constant, per call otherwise. */
function patternArg(args: readonly ArgInfo[], index: number): (pattern: string) => readonly FormatToken[] {
  const constant = constantString(args[index]);
  const parse = (pattern: string) => {
    const compiled = compileFormat(pattern);
    if (!compiled.ok) throw new ExprFault("invalid-argument", compiled.message);
    return compiled.tokens;
  };
  if (constant !== undefined && compileFormat(constant).ok) {
    const tokens = parse(constant);
    return () => tokens;
  }
  return parse;
}

export const DATETIME_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineFunction({
    name: "now",
    aliases: ["current_timestamp"],
    category: "date-time",
    doc: "The current time from the pipeline's clock (replays see the clock they are given).",
    params: [],
    returns: t.timestamp,
    nullable: "never",
    pure: false,
    prepare: (ctx) => () => ctx.now(),
  }),
  defineFunction({
    name: "date_trunc",
    category: "date-time",
    doc: "Start of the unit (second, minute, hour, day, week (Monday), month, quarter, year) containing ts, in zone.",
    params: ["unit: string", "ts: timestamp", "zone?: string"],
    returns: t.timestamp,
    check: (args) => choiceProblem(args, 0, "date_trunc unit", TRUNC_UNITS) ?? zoneProblem(args, 2),
    prepare: (ctx) => (unit, ts, zone) => {
      const u = unit.toLowerCase();
      if (!isTruncUnit(u)) throw new ExprFault("invalid-argument", `Unknown date_trunc unit '${unit}'`);
      return truncateTimestamp(u, ts, zoneOf(ctx.timeZone, zone));
    },
  }),
  defineFunction({
    name: "extract",
    aliases: ["date_part"],
    category: "date-time",
    doc: "A field of ts on the wall clock of zone: year quarter month week day hour minute second millisecond dow (0 = Sunday) isodow doy epoch; also `extract(HOUR FROM ts)`.",
    params: ["field: string", "ts: timestamp", "zone?: string"],
    returns: {
      text: "int (float for epoch)",
      of: (args) => {
        const field = constantString(args[0])?.toLowerCase();
        return field !== undefined && field !== "epoch" ? t.int : t.float;
      },
    },
    check: (args) => choiceProblem(args, 0, "extract field", EXTRACT_FIELDS) ?? zoneProblem(args, 2),
    prepare: (ctx) => (field, ts, zone) => {
      const f = field.toLowerCase();
      if (!isExtractField(f)) throw new ExprFault("invalid-argument", `Unknown extract field '${field}'`);
      return extractField(f, ts, zoneOf(ctx.timeZone, zone));
    },
  }),
  defineFunction({
    name: "to_timestamp",
    category: "date-time",
    doc: "A timestamp from text (ISO 8601 / SQL, or with a pattern such as 'dd/MM/yyyy HH:mm') or from epoch seconds; NULL if the text does not parse.",
    params: ["value: any", "format?: string", "zone?: string"],
    returns: t.timestamp,
    nullable: "always",
    check: (args) => {
      const v = args[0];
      const kind = v?.type.kind;
      if (v && !(kind === "string" || kind === "int" || kind === "float" || kind === "null" || isDynamic(v.type))) {
        return { index: 0, message: `to_timestamp expects a string or a number of seconds, got ${kind}` };
      }
      if ((kind === "int" || kind === "float") && args.length > 1) {
        return { index: 1, message: "A format only applies when converting text" };
      }
      return formatProblem(args, 1) ?? zoneProblem(args, 2);
    },
    prepare: (ctx, args) => {
      const pattern = patternArg(args, 1);
      return (value, format, zone) => {
        if (typeof value === "number") return Number.isFinite(value) ? Math.round(value * 1000) : null;
        if (typeof value !== "string") return null;
        const z = zoneOf(ctx.timeZone, zone);
        const ms = format === undefined ? parseTimestamp(value, z) : parseWithFormat(value, pattern(format), z);
        return ms ?? null;
      };
    },
  }),
  defineFunction({
    name: "format_timestamp",
    aliases: ["date_format"],
    category: "date-time",
    doc: "ts as text in zone, with a pattern such as 'yyyy-MM-dd HH:mm:ss' (y M d H h m s S a E D X Z; 'quoted' text).",
    params: ["ts: timestamp", "format: string", "zone?: string"],
    returns: t.string,
    check: (args) => formatProblem(args, 1) ?? zoneProblem(args, 2),
    prepare: (ctx, args) => {
      const pattern = patternArg(args, 1);
      return (ts, format, zone) => formatTimestamp(ts, pattern(format), zoneOf(ctx.timeZone, zone));
    },
  }),
];
