/**
 * Small float64 linear algebra for the metrics: a row-major matrix type, mean and covariance,
 * symmetric eigendecomposition (Householder tridiagonalisation + implicit QL, after JAMA's
 * tred2/tql2, public domain) and the square root of a symmetric PSD matrix.
 * @module
 */

/** A row-major (rows, cols) matrix, e.g. (N, D) features or (N, L) scores/labels. */
export interface Matrix {
  /** Values, row-major, length rows * cols. */
  data: ArrayLike<number>;
  /** Number of rows (samples). */
  rows: number;
  /** Number of columns (features or labels). */
  cols: number;
}

/**
 * Builds a float64 {@linkcode Matrix} from nested rows (all of the same length).
 *
 * @example
 * ```ts
 * import { matrixFromRows } from "@medsynth/medsynth";
 * const m = matrixFromRows([[1, 2, 3], [4, 5, 6]]);
 * if (m.rows !== 2 || m.cols !== 3 || m.data[4] !== 5) throw new Error("row-major (2, 3)");
 * ```
 */
export function matrixFromRows(rows: ArrayLike<number>[]): Matrix {
  const n = rows.length;
  const d = n > 0 ? rows[0].length : 0;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    if (rows[i].length !== d) {
      throw new Error(
        `matrixFromRows: row ${i} has ${rows[i].length} values, row 0 has ${d}; make rows equal`,
      );
    }
    for (let j = 0; j < d; j++) data[i * d + j] = rows[i][j];
  }
  return { data, rows: n, cols: d };
}

/** Throws a clear error if `m` is not a consistent, finite matrix. */
export function checkMatrix(m: Matrix, what: string, minRows = 1): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 1) {
    throw new Error(`${what}: bad shape (${m.rows}, ${m.cols}); rows and cols must be integers, cols >= 1`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new Error(
      `${what}: data has ${m.data.length} values but shape (${m.rows}, ${m.cols}) needs ${m.rows * m.cols}`,
    );
  }
  if (m.rows < minRows) throw new Error(`${what}: needs at least ${minRows} rows, got ${m.rows}`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new Error(
        `${what}: non-finite value ${m.data[i]} at row ${Math.floor(i / m.cols)}, col ${i % m.cols}`,
      );
    }
  }
}

/** Column means (D) and unbiased covariance (D, D) (ddof = 1, as numpy.cov), two-pass for accuracy. */
export function meanCov(m: Matrix): { mean: Float64Array; cov: Float64Array } {
  const n = m.rows, d = m.cols, x = m.data;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d); // (D, D)
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = x[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) cov[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov };
}

/** C = A B for square (n, n) row-major matrices. */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
    }
  }
  return c;
}

/** Eigenvalues (ascending) and, if asked, eigenvectors as columns of a row-major (n, n) matrix. */
export interface SymEig {
  values: Float64Array;
  vectors: Float64Array | null;
}

/**
 * Eigendecomposition of a symmetric (n, n) matrix (only symmetry of the input is assumed; the
 * upper and lower triangles should agree). Float64 throughout.
 */
export function symEig(a: Float64Array, n: number, wantVectors = true): SymEig {
  if (n === 0) return { values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : null };
  const w = Float64Array.from(a.subarray(0, n * n)); // (n, n); symmetric, so it is its own transpose
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(w, d, e, n); // w becomes the transposed Householder basis
  tql2(w, d, e, n, wantVectors);
  // sort ascending (tql2 leaves them nearly sorted)
  const order = Array.from(d.keys()).sort((i, j) => d[i] - d[j]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!wantVectors) return { values, vectors: null };
  const vectors = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const src = order[c] * n;
    for (let r = 0; r < n; r++) vectors[r * n + c] = w[src + r];
  }
  return { values, vectors };
}

/** Square root of a symmetric PSD matrix: V diag(sqrt(max(l, 0))) V^T (tiny negative eigenvalues are rounding). */
export function sqrtPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symEig(a, n, true);
  const vec = vectors!;
  const s = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += vec[i * n + k] * s[k] * vec[j * n + k];
      out[i * n + j] = acc;
      out[j * n + i] = acc;
    }
  }
  return out;
}

/**
 * Householder reduction of a symmetric matrix to tridiagonal form (d diagonal, e off-diagonal), in place.
 * JAMA's V is kept TRANSPOSED in U (U[b * n + a] = V[a][b]) so every inner loop runs over contiguous
 * memory; on return U holds the basis as rows, the layout tql2 wants.
 */
function tred2(U: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = U[j * n + (n - 1)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = U[j * n + (i - 1)];
        U[j * n + i] = 0;
        U[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        U[i * n + j] = f;
        g = e[j] + U[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += U[j * n + k] * d[k];
          e[k] += U[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) U[j * n + k] -= f * e[k] + g * d[k];
        d[j] = U[j * n + (i - 1)];
        U[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate transformations
  for (let i = 0; i < n - 1; i++) {
    U[i * n + (n - 1)] = U[i * n + i];
    U[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = U[(i + 1) * n + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += U[(i + 1) * n + k] * U[j * n + k];
        for (let k = 0; k <= i; k++) U[j * n + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) U[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = U[j * n + (n - 1)];
    U[j * n + (n - 1)] = 0;
  }
  U[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

/**
 * Implicit QL on the tridiagonal (d, e). W holds the TRANSPOSED basis (row i = eigenvector i), so
 * the rotations touch contiguous rows.
 */
function tql2(W: Float64Array, d: Float64Array, e: Float64Array, n: number, wantVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 300) throw new Error("symEig: QL iteration did not converge (non-finite input?)");
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = c, c3 = c;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (wantVectors) {
            const ri = i * n, ri1 = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = W[ri1 + k];
              const wk = W[ri + k];
              W[ri1 + k] = s * wk + c * hk;
              W[ri + k] = c * wk - s * hk;
            }
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}
