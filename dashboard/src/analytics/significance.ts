// Whether an A/B split's variants complete at different rates: Pearson's chi-square test of
// independence on variants × (completed, not completed). The API gives the counts only.

export type Verdict =
  /** The test cannot say (the reason says why). */
  | { kind: "too_few"; reason: string }
  | { kind: "tested"; chiSquare: number; degrees: number; p: number; significant: boolean };

/** How sure a difference must be before the page calls it significant. */
export const ALPHA = 0.05;
/** The test holds when every cell expects at least this many runs (the textbook rule). */
const MIN_EXPECTED = 5;

export function completionVerdict(variants: { executions: number; completed: number }[]): Verdict {
  if (variants.length < 2) return { kind: "too_few", reason: "only one variant has runs" };
  const total = variants.reduce((sum, v) => sum + v.executions, 0);
  const completed = variants.reduce((sum, v) => sum + v.completed, 0);
  const columns = [completed, total - completed];
  if (columns[1] === 0) return { kind: "too_few", reason: "every run completed, whatever its variant" };
  if (columns[0] === 0) return { kind: "too_few", reason: "no run completed, whatever its variant" };
  let chiSquare = 0;
  for (const variant of variants) {
    const observed = [variant.completed, variant.executions - variant.completed];
    for (const [column, seen] of observed.entries()) {
      const expected = (variant.executions * columns[column]!) / total;
      if (expected < MIN_EXPECTED) {
        return { kind: "too_few", reason: `too few runs (a variant expects fewer than ${MIN_EXPECTED} runs completed or not)` };
      }
      chiSquare += (seen - expected) ** 2 / expected;
    }
  }
  const degrees = variants.length - 1;
  const p = upperGammaRegularized(degrees / 2, chiSquare / 2);
  return { kind: "tested", chiSquare, degrees, p, significant: p < ALPHA };
}

/** ln Γ(x), Lanczos' approximation (g = 7, n = 9). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Q(a, x) = Γ(a, x) / Γ(a): the chi-square test's p-value is Q(df / 2, χ² / 2). */
export function upperGammaRegularized(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    // The series for P(a, x), then Q = 1 - P.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * front);
  }
  // Lentz's continued fraction for Q(a, x).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return Math.min(1, front * h);
}
