import { describe, expect, it } from "vitest";
import { minimize } from "../../src/domain/clv/optimize.ts";

const rosenbrock = ([x = 0, y = 0]: readonly number[]) => (1 - x) ** 2 + 100 * (y - x * x) ** 2;

describe("minimize (Nelder–Mead with restarts)", () => {
  it("finds the minimum of a shifted, badly scaled quadratic in 4 dimensions", () => {
    const centre = [1, -2, 0.5, 3];
    const weights = [1, 10, 100, 0.1];
    const quadratic = (p: readonly number[]) =>
      p.reduce((sum, x, i) => sum + (weights[i] ?? 0) * (x - (centre[i] ?? 0)) ** 2, 0);
    const result = minimize(quadratic, [0, 0, 0, 0]);
    expect(result.converged).toBe(true);
    result.point.forEach((x, i) => expect(x).toBeCloseTo(centre[i] ?? 0, 5));
    expect(result.value).toBeLessThan(1e-11);
  });

  it("follows Rosenbrock's curved valley to (1, 1)", () => {
    const result = minimize(rosenbrock, [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(result.point[0]).toBeCloseTo(1, 5);
    expect(result.point[1]).toBeCloseTo(1, 5);
  });

  it("treats NaN as +∞, so an objective may be undefined in places", () => {
    // ln is undefined for x ≤ 0; the minimum of x − ln x is at x = 1.
    const result = minimize(([x = 0]) => x - Math.log(x), [3]);
    expect(result.point[0]).toBeCloseTo(1, 6);
  });

  it("is deterministic and counts its work", () => {
    const first = minimize(rosenbrock, [-1.2, 1]);
    const second = minimize(rosenbrock, [-1.2, 1]);
    expect(second).toEqual(first);
    expect(first.iterations).toBeGreaterThan(0);
    expect(first.evaluations).toBeGreaterThan(first.iterations);
  });

  it("reports non-convergence when the budget runs out", () => {
    const result = minimize(rosenbrock, [-1.2, 1], { maxIterations: 10 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(10);
  });
});
