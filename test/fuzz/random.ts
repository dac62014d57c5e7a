/**
 * The fuzzer's dice: one seeded generator per request, so request n of seed s is the same request
 * on every machine and a failure can be replayed from its seed and index alone.
 */
import { mulberry32 } from "../../src/domain/prng.ts";

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function randomFor(seed: number, index: number): Random {
  // Mixed so that neighbouring seeds and indexes do not start neighbouring streams.
  const next = mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from nothing");
      return items[int(0, items.length - 1)]!;
    },
    chance: (p) => next() < p,
  };
}
