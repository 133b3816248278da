import { describe, expect, it } from "vitest";
import {
  ACTIVE_DB_STATUSES,
  ACTIVE_STATUSES,
  allowedActions,
  fromDbStatus,
  isActive,
  isTerminal,
  parseRunStatus,
  RUN_STATUS_LABELS,
  RUN_STATUSES,
  TERMINAL_DB_STATUSES,
  TERMINAL_STATUSES,
  toDbStatus,
} from "./run-status";

describe("run statuses", () => {
  it("splits every status into active or terminal, never both", () => {
    for (const s of RUN_STATUSES) expect(isActive(s) !== isTerminal(s)).toBe(true);
    expect([...ACTIVE_STATUSES, ...TERMINAL_STATUSES].sort()).toEqual([...RUN_STATUSES].sort());
    expect(isActive("paused")).toBe(true);
  });

  it("lets a paused run be resumed or stopped, and only an ended one restarted", () => {
    expect(allowedActions("paused")).toEqual(["resume", "stop"]);
    expect(allowedActions("running")).toEqual(["pause", "stop"]);
    for (const s of RUN_STATUSES) {
      expect(allowedActions(s).includes("restart")).toBe(isTerminal(s));
      expect(allowedActions(s).includes("start")).toBe(isTerminal(s));
    }
  });

  it("maps to the database's spelling and back, and reads either", () => {
    for (const s of RUN_STATUSES) {
      expect(fromDbStatus(toDbStatus(s))).toBe(s);
      expect(parseRunStatus(toDbStatus(s))).toBe(s);
      expect(RUN_STATUS_LABELS[s]).toMatch(/^[A-Z][a-z]+$/);
    }
    expect(ACTIVE_DB_STATUSES).toEqual(["QUEUED", "RUNNING", "PAUSED", "STOPPING"]);
    expect(TERMINAL_DB_STATUSES).toEqual(["COMPLETED", "STOPPED", "FAILED"]);
    expect(parseRunStatus("sleeping")).toBeUndefined();
    expect(parseRunStatus(null)).toBeUndefined();
  });
});
