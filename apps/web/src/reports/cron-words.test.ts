import { describe, expect, it } from "vitest";
import { CRON_PRESETS, cronWords, formatInZone } from "./cron-words";

describe("cron patterns in words", () => {
  it("says the presets and the common shapes", () => {
    expect(CRON_PRESETS.map((p) => cronWords(p.pattern))).toEqual([
      "hourly at :00",
      "daily at 06:00",
      "weekly on Monday at 06:00",
    ]);
    expect(cronWords("* * * * * *")).toBe("every second");
    expect(cronWords("*/15 * * * *")).toBe("every 15 minutes");
    expect(cronWords("30 7 1 * *")).toBe("monthly on day 1 at 07:30");
    expect(cronWords("0 0 8 * * 1-5")).toBe("weekdays at 08:00");
  });

  it("shows what it does not know as it is", () => {
    expect(cronWords("0 6 * 1 *")).toBe("cron 0 6 * 1 *");
    expect(cronWords("5/10 * * * * *")).toBe("cron 5/10 * * * * *");
  });

  it("formats a time in the report's zone", () => {
    expect(formatInZone("2026-12-07T05:00:00Z", "Europe/Berlin")).toBe("Mon 7 Dec, 06:00");
    expect(formatInZone("2026-12-07T05:00:00Z", "UTC")).toBe("Mon 7 Dec, 05:00");
  });
});
