import { describe, expect, it } from "vitest";
import { armOf, assignmentPoint, inProgramControl, murmur3 } from "../../src/domain/holdout.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const memberIds = Array.from({ length: 100_000 }, (_, i) => `mem_${String(i).padStart(8, "0")}`);

/** Four standard deviations of a binomial share: a correct hash fails this about once in 16,000 runs — and these runs are fixed. */
const fourSigma = (share: number, n: number) => 4 * Math.sqrt((share * (1 - share)) / n);

describe("murmur3", () => {
  it("matches the reference MurmurHash3_x86_32 vectors", () => {
    expect(murmur3(encode(""), 0)).toBe(0);
    expect(murmur3(encode(""), 1)).toBe(0x514e28b7);
    expect(murmur3(encode("a"), 0)).toBe(0x3c2569b2);
    expect(murmur3(encode("hello"), 0)).toBe(613153351);
    expect(murmur3(encode("The quick brown fox jumps over the lazy dog"), 0)).toBe(0x2e4ff723);
  });
});

describe("armOf", () => {
  it("puts the same member in the same arm every time — the assignment is pinned", () => {
    expect(assignmentPoint("promotion", "prm_01", "mem_01")).toBe(assignmentPoint("promotion", "prm_01", "mem_01"));
    const arms = memberIds.slice(0, 1000).map((m) => armOf("prm_weekend", m, 0.2));
    expect(memberIds.slice(0, 1000).map((m) => armOf("prm_weekend", m, 0.2))).toEqual(arms);
    // A fixed vector, so a change to the hash (which would move members between arms of running promotions) fails here.
    expect(assignmentPoint("promotion", "prm_01", "mem_01")).toBe(murmur3(encode("promotion\u001fprm_01\u001fmem_01")) / 2 ** 32);
  });

  it("holds out the control share within a tight binomial bound over 100,000 sequential ids", () => {
    for (const share of [0.05, 0.1, 0.2, 0.5]) {
      const control = memberIds.filter((m) => armOf("prm_cinema", m, share) === "control").length;
      expect(Math.abs(control / memberIds.length - share)).toBeLessThan(fourSigma(share, memberIds.length));
    }
  });

  it("spreads members evenly over [0, 1): each tenth holds 10% (χ² with 9 df below its 99.9% point, 27.88)", () => {
    const counts = new Array<number>(10).fill(0);
    for (const m of memberIds) {
      const decile = Math.floor(assignmentPoint("promotion", "prm_cinema", m) * 10);
      counts[decile] = (counts[decile] ?? 0) + 1;
    }
    const expected = memberIds.length / 10;
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(27.88);
  });

  it("assigns independently across promotions: the control groups overlap in about share²", () => {
    const share = 0.1;
    const both = memberIds.filter((m) => armOf("prm_a", m, share) === "control" && armOf("prm_b", m, share) === "control").length;
    expect(Math.abs(both / memberIds.length - share ** 2)).toBeLessThan(fourSigma(share ** 2, memberIds.length));
  });

  it("is all treatment at share 0 and all control at share 1, and refuses shares outside [0, 1]", () => {
    expect(memberIds.slice(0, 500).every((m) => armOf("prm_a", m, 0) === "treatment")).toBe(true);
    expect(memberIds.slice(0, 500).every((m) => armOf("prm_a", m, 1) === "control")).toBe(true);
    expect(() => armOf("prm_a", "mem_1", 1.1)).toThrow(RangeError);
    expect(() => armOf("prm_a", "mem_1", Number.NaN)).toThrow(RangeError);
  });
});

describe("inProgramControl", () => {
  it("holds out no one by default", () => {
    expect(memberIds.slice(0, 1000).some((m) => inProgramControl("salt", m))).toBe(false);
  });

  it("holds out the share, independently of every promotion's control group", () => {
    const share = 0.05;
    const held = memberIds.filter((m) => inProgramControl("program-salt", m, share));
    expect(Math.abs(held.length / memberIds.length - share)).toBeLessThan(fourSigma(share, memberIds.length));
    const alsoPromotionControl = held.filter((m) => armOf("program-salt", m, 0.1) === "control").length;
    expect(Math.abs(alsoPromotionControl / memberIds.length - share * 0.1)).toBeLessThan(fourSigma(share * 0.1, memberIds.length));
  });
});
