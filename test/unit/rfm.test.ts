import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/domain/prng.ts";
import {
  quintileScores,
  RFM_SEGMENT_NAMES,
  RFM_SEGMENTS,
  rfmSegment,
  scoreRfm,
  topByMonetary,
  type RfmMember,
  type RfmSegment,
} from "../../src/domain/rfm.ts";

/** A member who has bought `frequency` times, last `daysSinceLastPurchase` days ago. */
const member = (memberId: string, daysSinceLastPurchase: number, frequency: number, monetaryMinor: number): RfmMember => ({
  memberId,
  daysSinceLastPurchase,
  frequency,
  monetaryMinor,
});

/** The score the documented rule gives, by brute force: 1 + ⌊5 · (values strictly worse) / n⌋. */
const byDefinition = (values: number[], i: number, higherIsBetter: boolean) => {
  const v = values[i]!;
  const worse = values.filter((w) => (higherIsBetter ? w < v : w > v)).length;
  return 1 + Math.floor((5 * worse) / values.length);
};

describe("quintile scores: 1 + ⌊5 · (members strictly worse) / n⌋", () => {
  it("splits ten distinct values into five pairs", () => {
    expect([...quintileScores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], true)]).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it("reverses for recency: the fewest days since the last purchase score 5", () => {
    expect([...quintileScores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false)]).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
  });

  it("gives equal values the same score, whatever their position", () => {
    expect([...quintileScores([7, 3, 7, 3, 9], true)]).toEqual([3, 1, 3, 1, 5]);
  });

  it("handles heavy ties: 60% bought once all score 1, the first repeat buyers jump to 4", () => {
    const frequencies = [...Array<number>(60).fill(1), ...Array<number>(20).fill(2), ...Array<number>(10).fill(3), ...Array<number>(10).fill(5)];
    const scores = [...quintileScores(frequencies, true)];
    expect(new Set(scores.slice(0, 60))).toEqual(new Set([1])); // beat nobody
    expect(new Set(scores.slice(60, 80))).toEqual(new Set([4])); // beat 60%
    expect(new Set(scores.slice(80, 90))).toEqual(new Set([5])); // beat 80%
    expect(new Set(scores.slice(90))).toEqual(new Set([5]));
  });

  it("scores everybody 1 when everybody ties (nothing to tell apart), and copes with one or none", () => {
    expect([...quintileScores([4, 4, 4, 4], true)]).toEqual([1, 1, 1, 1]);
    expect([...quintileScores([4, 4, 4, 4], false)]).toEqual([1, 1, 1, 1]);
    expect([...quintileScores([42], true)]).toEqual([1]);
    expect(quintileScores([], true)).toHaveLength(0);
  });

  it("rejects a value that is not a finite number", () => {
    expect(() => quintileScores([1, Number.NaN], true)).toThrow(RangeError);
    expect(() => quintileScores([1, Number.POSITIVE_INFINITY], false)).toThrow(RangeError);
  });

  it("matches the rule by brute force, is monotone, and does not depend on input order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 60 }), fc.boolean(), fc.nat(), (values, higherIsBetter, seed) => {
        const scores = quintileScores(values, higherIsBetter);
        values.forEach((_, i) => expect(scores[i]).toBe(byDefinition(values, i, higherIsBetter)));
        // Shuffled input: each value keeps its score.
        const random = mulberry32(seed);
        const shuffled = values.map((v) => ({ v, key: random() })).sort((a, b) => a.key - b.key).map((x) => x.v);
        const shuffledScores = quintileScores(shuffled, higherIsBetter);
        const scoreOf = new Map(values.map((v, i) => [v, scores[i]]));
        shuffled.forEach((v, i) => expect(shuffledScores[i]).toBe(scoreOf.get(v)));
        // Better value, never a lower score.
        for (let i = 0; i < values.length; i++) {
          for (let j = 0; j < values.length; j++) {
            const better = higherIsBetter ? values[i]! > values[j]! : values[i]! < values[j]!;
            if (better) expect(scores[i]!).toBeGreaterThanOrEqual(scores[j]!);
          }
        }
      }),
    );
  });
});

describe("segments: one R × FM grid, FM = ⌊(F + M) / 2⌋", () => {
  const all: Array<[number, number, number]> = [];
  for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) all.push([r, f, m]);

  it("maps each of the 125 (R, F, M) triples to one of the 11 segments, and reaches all 11", () => {
    expect(all).toHaveLength(125);
    const reached = new Set<RfmSegment>();
    for (const [r, f, m] of all) {
      const segment = rfmSegment(r, f, m);
      expect(RFM_SEGMENTS).toContain(segment);
      reached.add(segment);
    }
    expect([...reached].sort()).toEqual([...RFM_SEGMENTS].sort());
    expect(RFM_SEGMENTS).toHaveLength(11);
  });

  it("is the published grid (rows FM 5..1, columns R 1..5)", () => {
    const grid = [5, 4, 3, 2, 1].map((fm) => [1, 2, 3, 4, 5].map((r) => rfmSegment(r, fm, fm)));
    expect(grid).toEqual([
      ["cant_lose_them", "at_risk", "loyal", "champions", "champions"],
      ["cant_lose_them", "at_risk", "loyal", "loyal", "champions"],
      ["at_risk", "at_risk", "need_attention", "potential_loyalist", "potential_loyalist"],
      ["lost", "hibernating", "about_to_sleep", "potential_loyalist", "potential_loyalist"],
      ["lost", "hibernating", "about_to_sleep", "promising", "new"],
    ]);
  });

  it("rounds FM down: a very recent single mid-sized purchase is New, one strong F and M is needed for more", () => {
    expect(rfmSegment(5, 1, 2)).toBe("new"); // FM 1.5 → 1
    expect(rfmSegment(5, 2, 1)).toBe("new");
    expect(rfmSegment(5, 2, 2)).toBe("potential_loyalist");
    expect(rfmSegment(5, 4, 3)).toBe("potential_loyalist"); // FM 3.5 → 3
    expect(rfmSegment(5, 4, 4)).toBe("champions");
    expect(rfmSegment(1, 5, 4)).toBe("cant_lose_them"); // FM 4.5 → 4
  });

  it("has a display name for every slug", () => {
    expect(Object.keys(RFM_SEGMENT_NAMES).sort()).toEqual([...RFM_SEGMENTS].sort());
    expect(RFM_SEGMENT_NAMES.cant_lose_them).toBe("Can't lose them");
    expect(RFM_SEGMENT_NAMES.potential_loyalist).toBe("Potential loyalist");
  });

  it("rejects scores outside 1..5 or not whole", () => {
    expect(() => rfmSegment(0, 3, 3)).toThrow(RangeError);
    expect(() => rfmSegment(3, 6, 3)).toThrow(RangeError);
    expect(() => rfmSegment(3, 3, 2.5)).toThrow(RangeError);
  });
});

describe("scoring members", () => {
  it("scores buyers only: members without a purchase get no RFM score", () => {
    const result = scoreRfm([member("a", 3, 5, 90_000), member("never", 0, 0, 0), member("b", 200, 1, 5_000)]);
    expect(result.noPurchase).toEqual(["never"]);
    expect(result.scored.map((s) => s.memberId)).toEqual(["a", "b"]);
    expect(result.scored[0]).toEqual({ memberId: "a", recencyScore: 3, frequencyScore: 3, monetaryScore: 3, segment: "need_attention" });
    expect(result.scored[1]).toEqual({ memberId: "b", recencyScore: 1, frequencyScore: 1, monetaryScore: 1, segment: "lost" });
  });

  it("names the segments of a small program", () => {
    // Ten buyers with distinct values: the scores follow the pairs of the quintile rule.
    const members = Array.from({ length: 10 }, (_, i) => member(`m${i}`, 10 * (i + 1), 10 - i, 1_000 * (10 - i)));
    const { scored } = scoreRfm(members);
    expect(scored.map((s) => [s.recencyScore, s.frequencyScore, s.monetaryScore])).toEqual([
      [5, 5, 5],
      [5, 5, 5],
      [4, 4, 4],
      [4, 4, 4],
      [3, 3, 3],
      [3, 3, 3],
      [2, 2, 2],
      [2, 2, 2],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(scored.map((s) => s.segment)).toEqual([
      "champions",
      "champions",
      "loyal",
      "loyal",
      "need_attention",
      "need_attention",
      "hibernating",
      "hibernating",
      "lost",
      "lost",
    ]);
  });

  it("rejects negative or non-finite figures", () => {
    expect(() => scoreRfm([member("a", -1, 1, 100)])).toThrow(RangeError);
    expect(() => scoreRfm([member("a", 1, Number.NaN, 100)])).toThrow(RangeError);
    expect(() => scoreRfm([member("a", 1, 1, Number.POSITIVE_INFINITY)])).toThrow(RangeError);
  });

  it("scores 200,000 synthetic members consistently", () => {
    const random = mulberry32(20_240_501);
    const members: RfmMember[] = [];
    for (let i = 0; i < 200_000; i++) {
      const frequency = random() < 0.1 ? 0 : 1 + Math.floor(-Math.log(1 - random()) * 1.5); // geometric-ish: many one-time buyers
      members.push(member(`m${i}`, Math.floor(random() * 365), frequency, frequency === 0 ? 0 : Math.floor(random() * 10_000_000)));
    }
    const { scored, noPurchase } = scoreRfm(members);
    expect(scored.length + noPurchase.length).toBe(200_000);
    expect(noPurchase.length).toBeGreaterThan(15_000);

    const buyers = members.filter((m) => m.frequency >= 1);
    const n = buyers.length;
    const counts = { r: [0, 0, 0, 0, 0, 0], f: [0, 0, 0, 0, 0, 0], m: [0, 0, 0, 0, 0, 0] };
    const segmentCount = new Map<string, number>();
    // Equal values, equal scores; better values, never lower scores. Problems are collected and
    // asserted once, as 180,000 expect() calls would take most of the test's time.
    const problems: string[] = [];
    const scoreByDays = new Map<number, number>();
    const scoreByFrequency = new Map<number, number>();
    scored.forEach((s, i) => {
      const b = buyers[i]!;
      if (s.memberId !== b.memberId) problems.push(`#${i}: ${s.memberId} out of order`);
      counts.r[s.recencyScore]!++;
      counts.f[s.frequencyScore]!++;
      counts.m[s.monetaryScore]!++;
      segmentCount.set(s.segment, (segmentCount.get(s.segment) ?? 0) + 1);
      if ((scoreByDays.get(b.daysSinceLastPurchase) ?? s.recencyScore) !== s.recencyScore) problems.push(`#${i}: tied recency, other score`);
      scoreByDays.set(b.daysSinceLastPurchase, s.recencyScore);
      if ((scoreByFrequency.get(b.frequency) ?? s.frequencyScore) !== s.frequencyScore) problems.push(`#${i}: tied frequency, other score`);
      scoreByFrequency.set(b.frequency, s.frequencyScore);
      if (s.segment !== rfmSegment(s.recencyScore, s.frequencyScore, s.monetaryScore)) problems.push(`#${i}: segment ${s.segment}`);
    });
    const days = [...scoreByDays.keys()].sort((a, b) => a - b);
    days.slice(1).forEach((d, i) => {
      if (scoreByDays.get(d)! > scoreByDays.get(days[i]!)!) problems.push(`${d} days scores above ${days[i]} days`);
    });
    const spendOrder = buyers.map((b, i) => ({ spend: b.monetaryMinor, score: scored[i]!.monetaryScore })).sort((a, b) => a.spend - b.spend);
    spendOrder.slice(1).forEach((x, i) => {
      const prev = spendOrder[i]!;
      if (x.score < prev.score || (x.spend === prev.spend && x.score !== prev.score)) problems.push(`spend ${x.spend} scores ${x.score}`);
    });
    expect(problems).toEqual([]);

    // Nearly distinct spends: each monetary quintile holds 20% (± 0.5%).
    for (let s = 1; s <= 5; s++) expect(Math.abs(counts.m[s]! / n - 0.2)).toBeLessThan(0.005);
    // 365 recency days: ties blur the quintiles a little, but each stays near 20%.
    for (let s = 1; s <= 5; s++) expect(Math.abs(counts.r[s]! / n - 0.2)).toBeLessThan(0.01);
    // Over 40% bought once: they all score F = 1, and F = 2 is skipped rather than invented.
    const onceBuyers = buyers.filter((b) => b.frequency === 1).length;
    expect(onceBuyers / n).toBeGreaterThan(0.4);
    expect(counts.f[1]).toBe(onceBuyers);
    expect(counts.f[2]).toBe(0);
    // Spot-check against the definition.
    const spends = buyers.map((b) => b.monetaryMinor);
    for (const i of [0, 1, 777, 50_000, n - 1]) expect(scored[i]!.monetaryScore).toBe(byDefinition(spends, i, true));
    expect(segmentCount.size).toBeGreaterThanOrEqual(9);
  });
});

describe("top share by spend (the royal tier)", () => {
  const members = [
    member("a", 1, 3, 50_000),
    member("b", 1, 2, 40_000),
    member("c", 1, 2, 40_000),
    member("d", 1, 1, 10_000),
    member("e", 1, 1, 5_000),
    member("f", 1, 1, 0),
    member("g", 1, 1, 1_000),
    member("h", 1, 1, 2_000),
    member("i", 1, 1, 3_000),
    member("j", 1, 1, 4_000),
    member("nobuy", 1, 0, 0),
  ];

  it("takes ⌊share · buyers⌋ biggest spenders: the top 10% of 10 buyers is 1", () => {
    expect(topByMonetary(members, 0.1)).toEqual({ thresholdMinor: 50_000, memberIds: ["a"] });
  });

  it("lets every tie at the boundary in: the top 20% of 10 is 2, but b and c tie, so 3", () => {
    expect(topByMonetary(members, 0.2)).toEqual({ thresholdMinor: 40_000, memberIds: ["a", "b", "c"] });
    expect(topByMonetary(members, 0.3)).toEqual({ thresholdMinor: 40_000, memberIds: ["a", "b", "c"] });
  });

  it("never lets in zero spend, and nobody when the share is under one buyer", () => {
    expect(topByMonetary(members, 1).memberIds).toHaveLength(9);
    expect(topByMonetary(members, 1).thresholdMinor).toBe(1_000);
    expect(topByMonetary(members, 0.05)).toEqual({ thresholdMinor: null, memberIds: [] });
    expect(topByMonetary([member("x", 1, 1, 0)], 1)).toEqual({ thresholdMinor: null, memberIds: [] });
  });

  it("does not depend on input order", () => {
    const reversed = [...members].reverse();
    for (const share of [0.1, 0.2, 0.5, 1]) expect(topByMonetary(reversed, share)).toEqual(topByMonetary(members, share));
  });

  it("rejects a share outside (0, 1]", () => {
    expect(() => topByMonetary(members, 0)).toThrow(RangeError);
    expect(() => topByMonetary(members, 1.5)).toThrow(RangeError);
  });
});
