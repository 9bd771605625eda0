// mbstd_bwd: input gradient of minibatch std (written, =). For group m, position (c, s) and member i:
//   dx[n, c, s] = dy[n, c, s] + dstat[m] / (C*S) * (x[n, c, s] - mu) / (G * sd),   n = i*M + m,
// with mu, sd the group's mean and sqrt(biased variance + EPS) at (c, s), recomputed from x, and
// dstat[m] = saved[M + m] from mbstd_dstat. (The mean's own gradient term vanishes: sum_i (x_i - mu) = 0.)
// Bindings: 0 x (N*C*S) read; 1 dy (N*(C+1)*S) read; 2 saved (2*M) read; 3 dx (N*C*S) write;
//           4 uniform { g: u32, m: u32, cs: u32 = C*S, s: u32 }.
// Dispatch: 1-D over the M*C*S (group, position) pairs, WG a group, folded by grid1d; each invocation writes
// its G members' gradients.
override WG: u32 = 64;
override EPS: f32 = 1e-8;

struct Params { g: u32, m: u32, cs: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> saved: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.m * p.cs) { return; }
  let m = t / p.cs;
  let j = t - m * p.cs;
  let fg = f32(p.g);
  var mu = 0.0;
  for (var i = 0u; i < p.g; i++) { mu += x[(i * p.m + m) * p.cs + j]; }
  mu /= fg;
  var v = 0.0;
  for (var i = 0u; i < p.g; i++) {
    let d = x[(i * p.m + m) * p.cs + j] - mu;
    v += d * d;
  }
  let sd = sqrt(v / fg + EPS);
  let k = saved[p.m + m] / (f32(p.cs) * fg * sd);
  let dplane = p.cs + p.s; // (C + 1) * S
  for (var i = 0u; i < p.g; i++) {
    let n = i * p.m + m;
    let xi = n * p.cs + j;
    dx[xi] = dy[n * dplane + j] + k * (x[xi] - mu);
  }
}
