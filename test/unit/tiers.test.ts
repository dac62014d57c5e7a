import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultProgram as program } from "../../src/domain/program.ts";
import { evaluateTier, TIER_TERM_MS, tierFor, type TierState } from "../../src/domain/tiers.ts";

const DAY_MS = 86_400_000;
const NOW = Date.parse("2025-06-01T03:00:00Z");
/** A member on `tier` whose term ends at `requalifyAt`. */
const on = (tier: string, requalifyAt: number | null): TierState => ({ tier, requalifyAt });

describe("which tier a member's qualifying points reach (default program)", () => {
  it.each([
    [0, "basic"],
    [4_999, "basic"],
    [5_000, "silver"],
    [19_999, "silver"],
    [20_000, "gold"],
    [49_999, "gold"],
    [50_000, "vip"],
    [1_000_000_000, "vip"],
  ])("%i points → %s", (points, tier) => {
    expect(tierFor(program, points)).toBe(tier);
  });

  it("a term is 365 days", () => {
    expect(TIER_TERM_MS).toBe(365 * DAY_MS);
  });
});

describe("upgrades happen at once and start a new 12-month term", () => {
  it("basic with 5,000 points → silver now, requalifying 365 days from now", () => {
    expect(evaluateTier(program, on("basic", null), 5_000, NOW)).toEqual({
      tier: "silver",
      requalifyAt: NOW + 365 * DAY_MS,
      changed: true,
      reason: "upgrade",
    });
  });

  it("can skip tiers: basic with 60,000 points → vip", () => {
    expect(evaluateTier(program, on("basic", null), 60_000, NOW)).toMatchObject({ tier: "vip", changed: true, reason: "upgrade" });
  });

  it("an upgrade mid-term restarts the term from now", () => {
    const silverUntil = NOW + 100 * DAY_MS;
    expect(evaluateTier(program, on("silver", silverUntil), 20_000, NOW)).toEqual({
      tier: "gold",
      requalifyAt: NOW + TIER_TERM_MS,
      changed: true,
      reason: "upgrade",
    });
  });

  it("an upgrade due at requalification is still an upgrade", () => {
    const goldUntil = NOW;
    expect(evaluateTier(program, on("gold", goldUntil), 50_000, NOW)).toEqual({
      tier: "vip",
      requalifyAt: NOW + TIER_TERM_MS,
      changed: true,
      reason: "upgrade",
    });
  });
});

describe("no downgrade during a term", () => {
  it("gold keeps gold until requalifyAt, even with 0 points", () => {
    const goldUntil = NOW + 30 * DAY_MS;
    expect(evaluateTier(program, on("gold", goldUntil), 0, NOW)).toEqual({ tier: "gold", requalifyAt: goldUntil, changed: false, reason: "unchanged" });
    expect(evaluateTier(program, on("gold", goldUntil), 0, goldUntil - 1)).toEqual({ tier: "gold", requalifyAt: goldUntil, changed: false, reason: "unchanged" });
  });

  it("keeping enough points mid-term does not extend the term", () => {
    const goldUntil = NOW + 30 * DAY_MS;
    expect(evaluateTier(program, on("gold", goldUntil), 25_000, NOW)).toEqual({ tier: "gold", requalifyAt: goldUntil, changed: false, reason: "unchanged" });
  });
});

describe("requalification when the term ends", () => {
  const goldUntil = NOW;

  it("drops to the tier the points support, by as many tiers as needed (gold with 6,000 → silver)", () => {
    expect(evaluateTier(program, on("gold", goldUntil), 6_000, NOW)).toEqual({
      tier: "silver",
      requalifyAt: NOW + TIER_TERM_MS,
      changed: true,
      reason: "downgrade",
    });
    expect(evaluateTier(program, on("vip", goldUntil), 6_000, NOW)).toMatchObject({ tier: "silver", reason: "downgrade" });
  });

  it("drops to the base tier, which has no term (requalifyAt null)", () => {
    expect(evaluateTier(program, on("vip", goldUntil), 0, NOW)).toEqual({ tier: "basic", requalifyAt: null, changed: true, reason: "downgrade" });
  });

  it("keeps the tier with enough points, starting a new term (reason 'requalified')", () => {
    expect(evaluateTier(program, on("gold", goldUntil), 20_000, NOW)).toEqual({
      tier: "gold",
      requalifyAt: NOW + TIER_TERM_MS,
      changed: false,
      reason: "requalified",
    });
  });

  it("applies from requalifyAt exactly", () => {
    expect(evaluateTier(program, on("gold", goldUntil), 0, goldUntil).tier).toBe("basic");
    expect(evaluateTier(program, on("gold", goldUntil), 0, goldUntil - 1).tier).toBe("gold");
  });

  it("a late evaluation starts the new term from when it runs, not from the old requalifyAt", () => {
    const late = goldUntil + 10 * DAY_MS;
    expect(evaluateTier(program, on("gold", goldUntil), 20_000, late).requalifyAt).toBe(late + TIER_TERM_MS);
  });
});

describe("the base tier", () => {
  it("has no term and never changes without enough points", () => {
    expect(evaluateTier(program, on("basic", null), 0, NOW)).toEqual({ tier: "basic", requalifyAt: null, changed: false, reason: "unchanged" });
    expect(evaluateTier(program, on("basic", null), 4_999, NOW)).toEqual({ tier: "basic", requalifyAt: null, changed: false, reason: "unchanged" });
  });
});

describe("tier rules hold for any points and time (property)", () => {
  const codes = program.tiers.map((t) => t.code);
  const rankOf = (code: string) => codes.indexOf(code);
  const state = fc.constantFrom(...codes).chain((tier) =>
    tier === "basic"
      ? fc.constant(on(tier, null))
      : fc.integer({ min: NOW - 2 * TIER_TERM_MS, max: NOW + TIER_TERM_MS }).map((requalifyAt) => on(tier, requalifyAt)),
  );

  it("upgrades at once, never downgrades before requalifyAt, and only the base tier has no term", () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 100_000 }), (current, points) => {
        const decision = evaluateTier(program, current, points, NOW);
        const earned = tierFor(program, points);
        expect(decision.changed).toBe(decision.tier !== current.tier);
        expect(decision.requalifyAt === null).toBe(decision.tier === "basic");
        if (rankOf(earned) > rankOf(current.tier)) expect(decision).toMatchObject({ tier: earned, reason: "upgrade", requalifyAt: NOW + TIER_TERM_MS });
        else if (current.requalifyAt !== null && NOW < current.requalifyAt) expect(decision).toEqual({ ...current, changed: false, reason: "unchanged" });
        else expect(decision.tier).toBe(earned);
      }),
      { numRuns: 500 },
    );
  });
});
