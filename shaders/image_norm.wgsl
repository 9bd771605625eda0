// image_norm: standardises every image plane over its unsaturated pixels. For each (n, c) of x (N, C, S),
// S = H*W: mean m and biased variance v of the pixels with |x| < SAT (windowed CT clips air and bone at the
// window's ends, -1 and 1: those are not tissue; SAT 0.9 so that a generator's near-clipped air counts as air), then y = (x - m) / sqrt(v + EPS) for EVERY pixel of the
// plane (a clipped pixel becomes one constant of that image). A plane with no unsaturated pixel is copied.
// Statistics in one shifted pass (shift = the first unsaturated pixel) to avoid cancellation.
// Bindings: 0 x read (N, C, S); 1 y read_write (N, C, S); 2 uniform { planes: u32 = N*C, s: u32 = S }.
// Dispatch: 1-D over the N*C planes, WG planes a group, folded by grid1d; one invocation walks its plane
// twice (no workgroup memory or barriers: llvmpipe runs those slowly, and N*C planes fill its lanes).
override WG: u32 = 64;
override SAT: f32 = 0.9;
override EPS: f32 = 1e-5;

struct Params { planes: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let plane = (wid.x + wid.y * nwg.x) * WG + lid;
  if (plane >= p.planes) { return; }
  let base = plane * p.s;
  var count = 0.0;
  var shift = 0.0;
  var sum = 0.0;
  var sq = 0.0;
  for (var i = 0u; i < p.s; i++) {
    let v = x[base + i];
    if (abs(v) < SAT) {
      if (count == 0.0) { shift = v; }
      let d = v - shift;
      sum += d;
      sq += d * d;
      count += 1.0;
    }
  }
  if (count == 0.0) {
    for (var i = 0u; i < p.s; i++) { y[base + i] = x[base + i]; }
    return;
  }
  let md = sum / count;
  let inv = inverseSqrt(max(sq / count - md * md, 0.0) + EPS);
  let m = shift + md;
  for (var i = 0u; i < p.s; i++) { y[base + i] = (x[base + i] - m) * inv; }
}
