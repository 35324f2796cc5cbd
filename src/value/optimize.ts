/**
 * Unconstrained minimisation for maximum-likelihood fits: BFGS with a strong-Wolfe line search when
 * the gradient is known, Nelder–Mead when it is not, several starts, and a finite-difference Hessian
 * for standard errors. Models optimise over log-parameters, so every point is feasible; an objective
 * returns +Infinity (or NaN) where it cannot be evaluated and the search backs away from there.
 */

/** A function to minimise. */
export type Objective = (x: readonly number[]) => number;
/** Its gradient. */
export type Gradient = (x: readonly number[]) => number[];

/**
 * An objective whose value and gradient come from one pass over the data: the pass runs once per point,
 * however the optimiser asks for the two. Outside `limit` (log-parameters) the value is +∞.
 */
export function singlePassObjective(
  compute: (u: readonly number[]) => { value: number; gradient: number[] },
  limit: number,
): { value: Objective; gradient: Gradient } {
  let lastU: readonly number[] = [];
  let last = { value: Number.NaN, gradient: [] as number[] };
  const at = (u: readonly number[]) => {
    if (u.length === lastU.length && u.every((v, i) => v === lastU[i])) return last;
    lastU = [...u];
    last = u.some((v) => !(Math.abs(v) < limit))
      ? { value: Number.POSITIVE_INFINITY, gradient: u.map(() => Number.NaN) }
      : compute(u);
    return last;
  };
  return { value: (u) => at(u).value, gradient: (u) => [...at(u).gradient] };
}

/** The outcome of one minimisation. */
export interface Minimum {
  x: number[];
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Infinity norm of the gradient at `x` (NaN for Nelder–Mead). */
  gradientNorm: number;
  method: 'bfgs' | 'nelder-mead';
}

/** Tolerances and limits of a minimisation. */
export interface MinimizeOptions {
  /** Converged when the gradient's infinity norm falls below this. */
  gradientTolerance?: number;
  /** Nelder–Mead: converged when the simplex's values and points both spread less than this. */
  tolerance?: number;
  maxIterations?: number;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

function normInf(a: readonly number[]): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function axpy(x: readonly number[], step: number, d: readonly number[]): number[] {
  return x.map((v, i) => v + step * (d[i] ?? 0));
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
}

/**
 * BFGS (Nocedal & Wright, algorithm 6.1) with the inverse-Hessian update and a line search satisfying
 * the strong Wolfe conditions (algorithms 3.5 and 3.6). The first step is scaled so that it moves at
 * most one unit, which on log-parameters means at most a factor e.
 */
export function minimizeBfgs(
  f: Objective,
  grad: Gradient,
  start: readonly number[],
  options: MinimizeOptions = {},
): Minimum {
  const n = start.length;
  const gtol = options.gradientTolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 500;
  let x = [...start];
  let fx = finite(f(x));
  let g = grad(x);
  let evaluations = 1;
  if (!Number.isFinite(fx) || !g.every(Number.isFinite)) {
    return { x, value: fx, iterations: 0, evaluations, converged: false, gradientNorm: NaN, method: 'bfgs' };
  }
  let h = identity(n);
  let iterations = 0;
  let converged = normInf(g) < gtol;
  let firstStep = true;
  while (!converged && iterations < maxIterations) {
    iterations++;
    let d = h.map((row) => -dot(row, g));
    let slope = dot(d, g);
    if (!(slope < 0)) {
      // The update lost positive definiteness (rounding): restart from steepest descent.
      h = identity(n);
      d = g.map((v) => -v);
      slope = dot(d, g);
    }
    const initial = firstStep ? Math.min(1, 1 / Math.max(normInf(d), 1e-300)) : 1;
    firstStep = false;
    const search = wolfeLineSearch(f, grad, x, fx, g, d, initial);
    evaluations += search.evaluations;
    if (search.step === 0) {
      if (h.some((row, i) => row.some((v, j) => v !== (i === j ? 1 : 0)))) {
        h = identity(n);
        continue;
      }
      break;
    }
    const xNew = axpy(x, search.step, d);
    const s = xNew.map((v, i) => v - (x[i] ?? 0));
    const y = search.gradient.map((v, i) => v - (g[i] ?? 0));
    const sy = dot(s, y);
    const improvement = fx - search.value;
    x = xNew;
    fx = search.value;
    g = search.gradient;
    if (normInf(g) < gtol) {
      converged = true;
      break;
    }
    // Stalled at the limit of double precision: as good as converged if the gradient is small.
    if (improvement <= 1e-15 * Math.max(1, Math.abs(fx)) && normInf(s) <= 1e-12 * Math.max(1, normInf(x))) {
      converged = normInf(g) < Math.sqrt(gtol);
      break;
    }
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (iterations === 1) {
        // Scale the initial inverse Hessian (Nocedal & Wright 6.20) before the first update.
        const scale = sy / dot(y, y);
        h = identity(n).map((row) => row.map((v) => v * scale));
      }
      h = bfgsUpdate(h, s, y, sy);
    }
  }
  return { x, value: fx, iterations, evaluations, converged, gradientNorm: normInf(g), method: 'bfgs' };
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

/** H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ. */
function bfgsUpdate(h: number[][], s: number[], y: number[], sy: number): number[][] {
  const n = s.length;
  const rho = 1 / sy;
  const hy = h.map((row) => dot(row, y));
  const yhy = dot(y, hy);
  const next: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      const si = s[i] ?? 0;
      const sj = s[j] ?? 0;
      const hij = h[i]?.[j] ?? 0;
      row.push(hij - rho * ((hy[i] ?? 0) * sj + si * (hy[j] ?? 0)) + (rho * rho * yhy + rho) * si * sj);
    }
    next.push(row);
  }
  return next;
}

interface LineSearchResult {
  step: number;
  value: number;
  gradient: number[];
  evaluations: number;
}

const C1 = 1e-4;
const C2 = 0.9;

function wolfeLineSearch(
  f: Objective,
  grad: Gradient,
  x: readonly number[],
  f0: number,
  g0: readonly number[],
  d: readonly number[],
  initial: number,
): LineSearchResult {
  const slope0 = dot(g0, d);
  let evaluations = 0;
  const phi = (step: number): { value: number; slope: number; gradient: number[] } => {
    evaluations++;
    const point = axpy(x, step, d);
    const value = finite(f(point));
    if (!Number.isFinite(value)) return { value, slope: Number.NaN, gradient: [] };
    const gradient = grad(point);
    return { value, slope: dot(gradient, d), gradient };
  };
  const failed = (): LineSearchResult => ({ step: 0, value: f0, gradient: [...g0], evaluations });
  let previousStep = 0;
  let previous = { value: f0, slope: slope0, gradient: [...g0] };
  let step = initial;
  for (let i = 0; i < 30; i++) {
    const current = phi(step);
    if (!Number.isFinite(current.value) || !Number.isFinite(current.slope)) {
      // Outside where the objective can be evaluated: shrink towards the last good point.
      step = previousStep + (step - previousStep) * 0.1;
      if (step - previousStep < 1e-16) return failed();
      continue;
    }
    if (current.value > f0 + C1 * step * slope0 || (i > 0 && current.value >= previous.value)) {
      return zoom(previousStep, previous, step, current);
    }
    if (Math.abs(current.slope) <= -C2 * slope0) {
      return { step, value: current.value, gradient: current.gradient, evaluations };
    }
    if (current.slope >= 0) return zoom(step, current, previousStep, previous);
    previousStep = step;
    previous = current;
    step *= 2;
  }
  return failed();

  function zoom(
    loStep: number,
    lo: { value: number; slope: number; gradient: number[] },
    hiStep: number,
    hi: { value: number; slope: number; gradient: number[] },
  ): LineSearchResult {
    for (let j = 0; j < 30; j++) {
      const trial = cubicOrBisect(loStep, lo, hiStep, hi);
      const current = phi(trial);
      if (!Number.isFinite(current.value) || !Number.isFinite(current.slope)) {
        hiStep = trial;
        hi = current;
        continue;
      }
      if (current.value > f0 + C1 * trial * slope0 || current.value >= lo.value) {
        hiStep = trial;
        hi = current;
      } else {
        if (Math.abs(current.slope) <= -C2 * slope0) {
          return { step: trial, value: current.value, gradient: current.gradient, evaluations };
        }
        if (current.slope * (hiStep - loStep) >= 0) {
          hiStep = loStep;
          hi = lo;
        }
        loStep = trial;
        lo = current;
      }
      if (Math.abs(hiStep - loStep) < 1e-16 * Math.max(1, Math.abs(loStep))) break;
    }
    // The interval collapsed: accept the best point found if it decreased the objective at all.
    if (loStep !== 0 && lo.value < f0)
      return { step: loStep, value: lo.value, gradient: lo.gradient, evaluations };
    return failed();
  }
}

/** The minimiser of the cubic through two points with slopes, if it lies well inside; else the midpoint. */
function cubicOrBisect(
  aStep: number,
  a: { value: number; slope: number },
  bStep: number,
  b: { value: number; slope: number },
): number {
  const lo = Math.min(aStep, bStep);
  const hi = Math.max(aStep, bStep);
  const mid = 0.5 * (lo + hi);
  if (!Number.isFinite(b.value) || !Number.isFinite(b.slope)) return mid;
  const d1 = a.slope + b.slope - (3 * (a.value - b.value)) / (aStep - bStep);
  const radicand = d1 * d1 - a.slope * b.slope;
  if (radicand < 0) return mid;
  const d2 = Math.sign(bStep - aStep) * Math.sqrt(radicand);
  const t = bStep - (bStep - aStep) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2));
  const margin = 0.1 * (hi - lo);
  if (!Number.isFinite(t) || t < lo + margin || t > hi - margin) return mid;
  return t;
}

/**
 * Nelder–Mead with the dimension-adapted coefficients of Gao & Han (2012), restarted from the best
 * vertex until a restart no longer improves (a collapsed simplex is the method's usual failure).
 */
export function minimizeNelderMead(
  f: Objective,
  start: readonly number[],
  options: MinimizeOptions = {},
): Minimum {
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 5000;
  let best = nelderMeadOnce(f, start, tolerance, maxIterations);
  let iterations = best.iterations;
  let evaluations = best.evaluations;
  for (let restart = 0; restart < 5; restart++) {
    const again = nelderMeadOnce(f, best.x, tolerance, maxIterations);
    iterations += again.iterations;
    evaluations += again.evaluations;
    const gain = best.value - again.value;
    if (again.value <= best.value) best = again;
    if (gain <= tolerance * Math.max(1, Math.abs(best.value))) break;
  }
  return { ...best, iterations, evaluations };
}

function nelderMeadOnce(
  f: Objective,
  start: readonly number[],
  tolerance: number,
  maxIterations: number,
): Minimum {
  const n = start.length;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gammaCoefficient = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations++;
    return finite(f(x));
  };
  const simplex: { x: number[]; value: number }[] = [{ x: [...start], value: evaluate([...start]) }];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i] = (x[i] ?? 0) + (Math.abs(x[i] ?? 0) > 1e-3 ? 0.25 * Math.abs(x[i] ?? 0) + 0.25 : 0.25);
    simplex.push({ x, value: evaluate(x) });
  }
  let iterations = 0;
  let converged = false;
  const vertex = (i: number) => simplex[i] as { x: number[]; value: number };
  while (iterations < maxIterations) {
    simplex.sort((p, q) => p.value - q.value);
    const bestValue = vertex(0).value;
    const worst = vertex(n);
    const valueSpread = Math.abs(worst.value - bestValue);
    let pointSpread = 0;
    for (let i = 1; i <= n; i++)
      pointSpread = Math.max(pointSpread, normInf(vertex(i).x.map((v, j) => v - (vertex(0).x[j] ?? 0))));
    if (valueSpread <= tolerance * Math.max(1, Math.abs(bestValue)) && pointSpread <= Math.sqrt(tolerance)) {
      converged = Number.isFinite(bestValue);
      break;
    }
    iterations++;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) centroid[j] = (centroid[j] ?? 0) + (vertex(i).x[j] ?? 0) / n;
    }
    const along = (t: number) => centroid.map((c, j) => c + t * (c - (worst.x[j] ?? 0)));
    const reflected = along(alpha);
    const fr = evaluate(reflected);
    const secondWorst = vertex(n - 1).value;
    if (fr < bestValue) {
      const expanded = along(beta);
      const fe = evaluate(expanded);
      simplex[n] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
    } else if (fr < secondWorst) {
      simplex[n] = { x: reflected, value: fr };
    } else {
      const outside = fr < worst.value;
      const contracted = along(outside ? gammaCoefficient : -gammaCoefficient);
      const fc = evaluate(contracted);
      if (fc < (outside ? fr : worst.value)) {
        simplex[n] = { x: contracted, value: fc };
      } else {
        const bestX = vertex(0).x;
        for (let i = 1; i <= n; i++) {
          const x = vertex(i).x.map((v, j) => (bestX[j] ?? 0) + delta * (v - (bestX[j] ?? 0)));
          simplex[i] = { x, value: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  const best = vertex(0);
  return {
    x: best.x,
    value: best.value,
    iterations,
    evaluations,
    converged,
    gradientNorm: Number.NaN,
    method: 'nelder-mead',
  };
}

/**
 * The Hessian at `x` by central differences: of the gradient when it is given (then symmetrised),
 * otherwise of the function. Steps are relative to each coordinate's size.
 */
export function computeHessian(f: Objective, x: readonly number[], grad?: Gradient): number[][] {
  const n = x.length;
  const steps = x.map((v) => 1e-4 * Math.max(1, Math.abs(v)));
  const h: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const shifted = (i: number, t: number, j?: number, u?: number) => {
    const y = [...x];
    y[i] = (y[i] ?? 0) + t;
    if (j !== undefined && u !== undefined) y[j] = (y[j] ?? 0) + u;
    return y;
  };
  if (grad) {
    for (let i = 0; i < n; i++) {
      const hi = steps[i] ?? 0;
      const up = grad(shifted(i, hi));
      const down = grad(shifted(i, -hi));
      for (let j = 0; j < n; j++) {
        const row = h[j] as number[];
        row[i] = ((up[j] ?? 0) - (down[j] ?? 0)) / (2 * hi);
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const mean = 0.5 * ((h[i]?.[j] ?? 0) + (h[j]?.[i] ?? 0));
        (h[i] as number[])[j] = mean;
        (h[j] as number[])[i] = mean;
      }
    }
    return h;
  }
  const f0 = f(x);
  for (let i = 0; i < n; i++) {
    const hi = steps[i] ?? 0;
    (h[i] as number[])[i] = (f(shifted(i, hi)) - 2 * f0 + f(shifted(i, -hi))) / (hi * hi);
    for (let j = 0; j < i; j++) {
      const hj = steps[j] ?? 0;
      const value =
        (f(shifted(i, hi, j, hj)) -
          f(shifted(i, hi, j, -hj)) -
          f(shifted(i, -hi, j, hj)) +
          f(shifted(i, -hi, j, -hj))) /
        (4 * hi * hj);
      (h[i] as number[])[j] = value;
      (h[j] as number[])[i] = value;
    }
  }
  return h;
}

/** A central-difference gradient of `f`, for objectives without an analytic one. */
export function numericalGradient(f: Objective): Gradient {
  return (x) =>
    x.map((v, i) => {
      const h = 1e-6 * Math.max(1, Math.abs(v));
      const up = [...x];
      const down = [...x];
      up[i] = v + h;
      down[i] = v - h;
      return (f(up) - f(down)) / (2 * h);
    });
}

/** The inverse of a symmetric positive-definite matrix (Cholesky), or undefined when it is not one. */
export function invertPositiveDefinite(matrix: readonly (readonly number[])[]): number[][] | undefined {
  const n = matrix.length;
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i]?.[j] ?? Number.NaN;
      for (let k = 0; k < j; k++) sum -= (l[i]?.[k] ?? 0) * (l[j]?.[k] ?? 0);
      if (i === j) {
        if (!(sum > 0)) return undefined;
        (l[i] as number[])[i] = Math.sqrt(sum);
      } else {
        (l[i] as number[])[j] = sum / (l[j]?.[j] ?? Number.NaN);
      }
    }
  }
  // Solve L Lᵀ X = I column by column.
  const inverse: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let c = 0; c < n; c++) {
    const y = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let sum = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) sum -= (l[i]?.[k] ?? 0) * (y[k] ?? 0);
      y[i] = sum / (l[i]?.[i] ?? Number.NaN);
    }
    for (let i = n - 1; i >= 0; i--) {
      let sum = y[i] ?? 0;
      for (let k = i + 1; k < n; k++) sum -= (l[k]?.[i] ?? 0) * (inverse[k]?.[c] ?? 0);
      (inverse[i] as number[])[c] = sum / (l[i]?.[i] ?? Number.NaN);
    }
  }
  return inverse;
}

/** |log θ| beyond this (θ below 1e-5 or above 1e5) marks an estimate that ran off to the boundary. */
const BOUNDARY_LOG_PARAMETER = Math.log(1e5);
/** A BFGS run that stops with a larger gradient norm than this is restarted with Nelder–Mead. */
const LOST_GRADIENT = 1e-4;
/** Infinity norm of the mean log-likelihood's gradient below which a fit counts as converged. */
const CONVERGED_GRADIENT = 1e-7;

/**
 * Newton steps on the gradient alone, from a point BFGS reached: near the optimum the objective's
 * changes fall below double precision before its gradient does, so a line search on values stalls
 * while Newton's method, judged by the gradient's norm, still converges quadratically. Steps are taken
 * while they shrink the gradient; the last Hessian comes back for the standard errors.
 */
export function polishNewton(
  grad: Gradient,
  start: readonly number[],
  f: Objective,
): { x: number[]; value: number; gradientNorm: number; hessian: number[][] } {
  let x = [...start];
  let g = grad(x);
  let hessian = computeHessian(f, x, grad);
  for (let i = 0; i < 8 && normInf(g) > 1e-14; i++) {
    const inverse = invertPositiveDefinite(hessian);
    if (!inverse) break;
    const next = x.map((v, j) => v - dot(inverse[j] ?? [], g));
    const gNext = grad(next);
    if (!gNext.every(Number.isFinite) || !(normInf(gNext) < normInf(g))) break;
    x = next;
    g = gNext;
    hessian = computeHessian(f, x, grad);
  }
  return { x, value: f(x), gradientNorm: normInf(g), hessian };
}

/** A maximum-likelihood fit on log-parameters, with its diagnostics. */
export interface LogParameterFit {
  /** Estimates on the natural (positive) scale. */
  estimates: number[];
  /** Standard errors on the natural scale by the delta method; NaN when the Hessian is not positive definite. */
  standardErrors: number[];
  logLikelihood: number;
  converged: boolean;
  iterations: number;
  evaluations: number;
  method: 'bfgs' | 'nelder-mead';
  /** How many starts ended within 1e-6 (relative) of the best log-likelihood. */
  startsAgreeing: number;
  starts: number;
  /**
   * The likelihood rises towards the edge of the parameter space (a parameter tends to 0 or infinity):
   * the estimates are limits rather than an interior maximum, and have no standard errors.
   */
  atBoundary: boolean;
}

/**
 * Maximises a log-likelihood over positive parameters θ = exp(u) from several starts: BFGS when the
 * gradient is known (falling back to Nelder–Mead from a start where it fails), keeping the best.
 * `negativeMean` is −LL/n in u and `gradient` its gradient in u; `n` rescales to the total.
 * Standard errors come from the inverse Hessian of −LL in u, carried to θ by the delta method
 * (se(θᵢ) = θᵢ · se(uᵢ)).
 */
export function fitLogParameters(options: {
  negativeMean: Objective;
  gradient?: Gradient;
  starts: readonly (readonly number[])[];
  n: number;
}): LogParameterFit {
  const { negativeMean, gradient, starts, n } = options;
  const runs: Minimum[] = [];
  for (const start of starts) {
    const u0 = start.map(Math.log);
    let run = gradient ? minimizeBfgs(negativeMean, gradient, u0) : minimizeNelderMead(negativeMean, u0);
    if (gradient && !run.converged && !(run.gradientNorm < LOST_GRADIENT)) {
      // BFGS lost its way (not merely stalled at rounding level near the optimum, which the Newton polish
      // below settles): Nelder–Mead from where it stopped, then BFGS again.
      const polished = minimizeNelderMead(negativeMean, run.x);
      const again = minimizeBfgs(negativeMean, gradient, polished.x);
      run = {
        ...again,
        iterations: run.iterations + polished.iterations + again.iterations,
        evaluations: run.evaluations + polished.evaluations + again.evaluations,
      };
    }
    runs.push(run);
  }
  const finiteRuns = runs.filter((r) => Number.isFinite(r.value));
  const best = finiteRuns.reduce<Minimum | undefined>(
    (b, r) => (b === undefined || r.value < b.value ? r : b),
    undefined,
  );
  if (!best) {
    const dimension = starts[0]?.length ?? 0;
    return {
      estimates: new Array<number>(dimension).fill(Number.NaN),
      standardErrors: new Array<number>(dimension).fill(Number.NaN),
      logLikelihood: Number.NaN,
      converged: false,
      iterations: runs.reduce((s, r) => s + r.iterations, 0),
      evaluations: runs.reduce((s, r) => s + r.evaluations, 0),
      method: gradient ? 'bfgs' : 'nelder-mead',
      startsAgreeing: 0,
      starts: starts.length,
      atBoundary: false,
    };
  }
  const polished = gradient ? polishNewton(gradient, best.x, negativeMean) : undefined;
  const x = polished?.x ?? best.x;
  const value = polished?.value ?? best.value;
  const converged = polished ? polished.gradientNorm < CONVERGED_GRADIENT : best.converged;
  const estimates = x.map(Math.exp);
  const hessian = (polished?.hessian ?? computeHessian(negativeMean, x)).map((row) => row.map((v) => v * n));
  const covariance = invertPositiveDefinite(hessian);
  const standardErrors = estimates.map((theta, i) => {
    const variance = covariance?.[i]?.[i];
    return variance !== undefined && variance > 0 ? theta * Math.sqrt(variance) : Number.NaN;
  });
  const tolerance = 1e-6 * Math.max(1, Math.abs(best.value));
  return {
    estimates,
    standardErrors,
    logLikelihood: -value * n,
    converged,
    iterations: runs.reduce((s, r) => s + r.iterations, 0),
    evaluations: runs.reduce((s, r) => s + r.evaluations, 0),
    method: best.method,
    startsAgreeing: finiteRuns.filter((r) => r.value - best.value <= tolerance).length,
    starts: starts.length,
    atBoundary: covariance === undefined || x.some((u) => Math.abs(u) > BOUNDARY_LOG_PARAMETER),
  };
}
