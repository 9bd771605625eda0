// cond_norm_pgrad: gradients of the per-sample affine of conditional pixel norm (or of no norm), written (=)
// since gamma and beta are activations (the output of a linear layer on the label / latent):
//   dbeta[n, c] = sum_s dy[n, c, s],  dgamma[n, c] = sum_s dy[n, c, s] * x[n, c, s] * r[n, s]
// with r the pixel norm's saved 1 / sqrt(mean_c x^2 + eps) (NORM = 1) or 1 (NORM = 0).
// (Instance-norm mode does not use this kernel: batch_norm_bwd does it all per (n, c).)
// Bindings: 0 x (N*C*S) read; 1 dy (N*C*S) read; 2 rsave (N*S) read (any readable buffer when NORM = 0);
//           3 dgamma (N*C) write; 4 dbeta (N*C) write; 5 uniform { n: u32, c: u32, s: u32 }.
// Dispatch: one workgroup per (n, c), N*C groups folded by grid1d; WG invocations stride over S and
// tree-reduce in workgroup memory. WG = 1 is the naive variant. WG must be a power of two.
override WG: u32 = 64;
override NORM: u32 = 1u;

struct Params { n: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> rsave: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> part: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x; // = n * C + c
  if (g >= p.n * p.c) { return; }
  let n = g / p.c;
  var acc = vec2<f32>(0.0);
  for (var s = lid; s < p.s; s += WG) {
    let d = dy[g * p.s + s];
    var xh = x[g * p.s + s];
    if (NORM == 1u) { xh *= rsave[n * p.s + s]; }
    acc += vec2<f32>(d, d * xh);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dbeta[g] = part[0].x;
    dgamma[g] = part[0].y;
  }
}
