/**
 * A small unconstrained minimiser: Nelder–Mead with restarts. The models fit on log-parameters, so
 * "unconstrained" is all they need; Nelder–Mead needs no gradient and is deterministic.
 */

export interface MinimizeOptions {
  /** Initial simplex edge, in the units of the point (log-units for the models): default 0.5. */
  initialStep?: number;
  /** Converged when every vertex's value is within this of the best one: default 1e-12. */
  valueTolerance?: number;
  /** …and every vertex is within this of the best one in every coordinate: default 1e-9. */
  pointTolerance?: number;
  /** Iteration budget over all restarts: default 20,000. */
  maxIterations?: number;
  /** Restarts from the best point with a fresh simplex, to escape a collapsed one: default 10. */
  maxRestarts?: number;
}

export interface MinimizeResult {
  point: number[];
  value: number;
  /** Nelder–Mead iterations over all restarts. */
  iterations: number;
  /** Objective evaluations over all restarts. */
  evaluations: number;
  /** False when the iteration budget ran out first. */
  converged: boolean;
}

/**
 * Minimises `objective` from `start` by Nelder–Mead with the dimension-adaptive coefficients of
 * Gao & Han (2012, "Implementing the Nelder–Mead simplex algorithm with adaptive parameters"),
 * restarting from the best vertex until a restart no longer improves the value. NaN counts as +∞,
 * so an objective may return NaN where it is undefined.
 */
export function minimize(
  objective: (point: readonly number[]) => number,
  start: readonly number[],
  options: MinimizeOptions = {},
): MinimizeResult {
  const initialStep = options.initialStep ?? 0.5;
  const valueTolerance = options.valueTolerance ?? 1e-12;
  const pointTolerance = options.pointTolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 20_000;
  const maxRestarts = options.maxRestarts ?? 10;

  let evaluations = 0;
  const evaluate = (point: readonly number[]): number => {
    evaluations++;
    const value = objective(point);
    return Number.isNaN(value) ? Number.POSITIVE_INFINITY : value;
  };

  let best: Vertex = { point: [...start], value: evaluate(start) };
  let iterations = 0;
  let converged = false;
  for (let restart = 0; restart <= maxRestarts; restart++) {
    const run = nelderMead(evaluate, best, initialStep, valueTolerance, pointTolerance, maxIterations - iterations);
    iterations += run.iterations;
    const improvement = best.value - run.best.value;
    if (run.best.value <= best.value) best = run.best;
    converged = run.converged;
    // A restart that finds nothing better confirms the minimum; one that does may have more to find.
    if (!run.converged || !(improvement > valueTolerance)) break;
  }
  return { point: best.point, value: best.value, iterations, evaluations, converged };
}

interface Vertex {
  point: number[];
  value: number;
}

interface Run {
  best: Vertex;
  iterations: number;
  converged: boolean;
}

function nelderMead(
  evaluate: (point: readonly number[]) => number,
  start: Vertex,
  initialStep: number,
  valueTolerance: number,
  pointTolerance: number,
  maxIterations: number,
): Run {
  const dimension = start.point.length;
  const reflection = 1;
  const expansion = 1 + 2 / dimension;
  const contraction = 0.75 - 1 / (2 * dimension);
  const shrinkage = 1 - 1 / dimension;

  const simplex: Vertex[] = [start];
  for (let i = 0; i < dimension; i++) {
    const point = [...start.point];
    point[i] = (point[i] ?? 0) + initialStep;
    simplex.push({ point, value: evaluate(point) });
  }

  let iterations = 0;
  while (iterations < maxIterations) {
    simplex.sort((u, v) => u.value - v.value);
    const bestVertex = vertexAt(simplex, 0);
    const worst = vertexAt(simplex, dimension);
    if (hasConverged(simplex, valueTolerance, pointTolerance)) {
      return { best: bestVertex, iterations, converged: true };
    }
    iterations++;

    const centroid = new Array<number>(dimension).fill(0);
    for (let v = 0; v < dimension; v++) {
      const point = vertexAt(simplex, v).point;
      for (let i = 0; i < dimension; i++) centroid[i] = (centroid[i] ?? 0) + (point[i] ?? 0) / dimension;
    }
    const along = (coefficient: number): Vertex => {
      const point = centroid.map((c, i) => c + coefficient * (c - (worst.point[i] ?? 0)));
      return { point, value: evaluate(point) };
    };

    const reflected = along(reflection);
    const secondWorst = vertexAt(simplex, dimension - 1);
    if (reflected.value < bestVertex.value) {
      const expanded = along(expansion);
      simplex[dimension] = expanded.value < reflected.value ? expanded : reflected;
      continue;
    }
    if (reflected.value < secondWorst.value) {
      simplex[dimension] = reflected;
      continue;
    }
    const contracted =
      reflected.value < worst.value ? along(reflection * contraction) : along(-contraction);
    if (contracted.value < Math.min(reflected.value, worst.value)) {
      simplex[dimension] = contracted;
      continue;
    }
    for (let v = 1; v <= dimension; v++) {
      const point = vertexAt(simplex, v).point.map(
        (x, i) => (bestVertex.point[i] ?? 0) + shrinkage * (x - (bestVertex.point[i] ?? 0)),
      );
      simplex[v] = { point, value: evaluate(point) };
    }
  }
  simplex.sort((u, v) => u.value - v.value);
  return { best: vertexAt(simplex, 0), iterations, converged: false };
}

function hasConverged(sortedSimplex: readonly Vertex[], valueTolerance: number, pointTolerance: number): boolean {
  const best = vertexAt(sortedSimplex, 0);
  if (!Number.isFinite(best.value)) return false;
  return sortedSimplex.every(
    (vertex) =>
      Math.abs(vertex.value - best.value) <= valueTolerance &&
      vertex.point.every((x, i) => Math.abs(x - (best.point[i] ?? 0)) <= pointTolerance),
  );
}

function vertexAt(simplex: readonly Vertex[], index: number): Vertex {
  const vertex = simplex[index];
  if (vertex === undefined) throw new Error(`simplex has no vertex ${index}`);
  return vertex;
}
