import path from "node:path";
import { FORMAT_EXTENSION, type REPORT_FORMATS } from "./report-router.types";

// A report's file path: relative to the workspace's files directory, with `{date}` (YYYY-MM-DD) and `{time}`
// (HHmmss) filled in the report's time zone at the slot. Checked when the report is saved (checkFilePath) and
// resolved at fire time (fillFilePath); nothing may name a place outside the workspace's folder.

type Format = (typeof REPORT_FORMATS)[number];

const TOKENS = new Set(["{date}", "{time}"]);
const SEGMENT = /^[A-Za-z0-9 _.+@=,{}-]+$/;

/** Why `filePath` cannot be used for `format`, or null when it can. */
export function filePathProblem(filePath: string, format: Format): string | null {
  if (filePath.startsWith("/") || filePath.startsWith("\\") || /^[A-Za-z]:/.test(filePath)) {
    return "give a path relative to the workspace's files directory, not an absolute one";
  }
  if (filePath.includes("\\")) return "separate folders with /, not \\";
  const segments = filePath.split("/");
  for (const segment of segments) {
    if (segment === "" || segment === ".") return "a folder name is empty or '.'";
    if (segment === "..") return "'..' is not allowed: the file stays inside the workspace's files directory";
    if (!SEGMENT.test(segment)) {
      return `"${segment}" has characters other than letters, digits, space and _ . + @ = , - { }`;
    }
  }
  for (const token of filePath.match(/\{[^}]*\}/g) ?? []) {
    if (!TOKENS.has(token)) return `unknown token ${token}: use {date} or {time}`;
  }
  if (/[{}]/.test(filePath.replace(/\{date\}|\{time\}/g, ""))) return "a { or } outside {date} and {time}";
  const extension = FORMAT_EXTENSION[format];
  if (!filePath.toLowerCase().endsWith(extension)) {
    return `a ${format === "CSV" ? "CSV" : "Parquet"} report's file ends in ${extension}`;
  }
  return null;
}

/** The slot's date and time in `timeZone`. */
function stamp(at: Date, timeZone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "00";
  return {
    date: `${part("year")}-${part("month")}-${part("day")}`,
    time: `${part("hour")}${part("minute")}${part("second")}`,
  };
}

/** The relative path the slot `at` writes, tokens filled. */
export function fillFilePath(filePath: string, at: Date, timeZone: string): string {
  const { date, time } = stamp(at, timeZone);
  return path.posix.normalize(filePath.replaceAll("{date}", date).replaceAll("{time}", time));
}
