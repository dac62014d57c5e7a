/**
 * Ids sort by creation time (cursor pagination and "newest first" rely on it), also among ids made
 * in the same millisecond, and never repeat.
 */
import { describe, expect, it } from "vitest";
import { newId } from "../../src/lib/ids.ts";

describe("newId", () => {
  it("says what it is and sorts by time, and within a millisecond by creation order", () => {
    const ids = [];
    for (let ms = 1_700_000_000_000; ms < 1_700_000_000_050; ms++) for (let k = 0; k < 200; k++) ids.push(newId("interaction", ms));
    expect(ids.every((id) => /^int_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("differs between milliseconds in its random part, even past a 4 KB pool of random bytes", () => {
    const tails = Array.from({ length: 1_000 }, (_, i) => newId("member", 1_800_000_000_000 + i * 7).slice(-16));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
