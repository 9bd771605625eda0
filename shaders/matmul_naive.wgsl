// matmul_naive: C (m, n) = op(A) op(B) (+ bias[j] if HAS_BIAS) (+ old C if ACCUMULATE), row-major, one
// output per invocation: the obviously-correct reference kernel (variant "naive").
// op(A) is A (m, k), or A^T for A stored (k, m) when TRANS_A = 1; op(B) is B (k, n), or B^T for B stored
// (n, k) when TRANS_B = 1.
// Bindings: 0 a read; 1 b read; 2 bias (n) read (ignored unless HAS_BIAS); 3 c (m, n) read_write;
//           4 uniform { m: u32, n: u32, k: u32 }.
// Dispatch: (ceil(n / WG_X), ceil(m / WG_Y), 1) workgroups of (WG_X, WG_Y); invocation (j, i) writes C[i, j].
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;
override TRANS_A: u32 = 0u;
override TRANS_B: u32 = 0u;
override ACCUMULATE: u32 = 0u;
override HAS_BIAS: u32 = 0u;

struct Params { m: u32, n: u32, k: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  if (i >= p.m || j >= p.n) { return; }
  var acc = 0.0;
  for (var l = 0u; l < p.k; l++) {
    let av = select(a[i * p.k + l], a[l * p.m + i], TRANS_A == 1u);
    let bv = select(b[l * p.n + j], b[j * p.k + l], TRANS_B == 1u);
    acc = fma(av, bv, acc);
  }
  if (HAS_BIAS == 1u) { acc += bias[j]; }
  let o = i * p.n + j;
  if (ACCUMULATE == 1u) { acc += c[o]; }
  c[o] = acc;
}
