// bn_relu_bwd_lanes: bn_relu_bwd (see there for the maths, bindings and uniform) with one workgroup of WG lanes
// per channel instead of one invocation: lane l takes the columns l, l + WG, ... of every row, the two sums
// meet in workgroup memory behind one barrier. Each lane loops over 1/WG of the channel's N*S values, which
// keeps it under llvmpipe's cap of 65535 loop iterations per invocation (a loop that reaches it silently
// stops: bn_relu_bwd, at 2 * N*S iterations, left the last 1/8 of dx unwritten for the classifier's stem at
// batch 32 and 32x32). bn_relu.ts picks WG (a power of two) so that a lane stays under the cap.
// Bindings: as bn_relu_bwd. Dispatch: one workgroup per channel, folded by grid1d.
override WG: u32 = 8;
override ACCUM_DX: u32 = 0u;
override POOL: u32 = 0u;

struct Params { n: u32, c: u32, s: u32, xs: u32, dxs: u32, h: u32, w: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dr: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> saved: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> part: array<vec2<f32>, WG>;

// The gradient of the ReLU output at row y, column x of channel g of sample a.
fn dr_at(a: u32, g: u32, y: u32, x: u32) -> f32 {
  if (POOL == 0u) { return dr[(a * p.c + g) * p.s + y * p.w + x]; }
  let ho = p.h / 2u;
  let wo = p.w / 2u;
  if (y >= 2u * ho || x >= 2u * wo) { return 0.0; }
  return 0.25 * dr[((a * p.c + g) * ho + y / 2u) * wo + x / 2u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.c) { return; }
  let mean = saved[g];
  let invstd = saved[p.c + g];
  let scale = gamma[g] * invstd;
  let shift = beta[g] - mean * scale;
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var a = 0u; a < p.n; a++) {
    for (var y = 0u; y < p.h; y++) {
      let base = a * p.xs + g * p.s + y * p.w;
      for (var xi = lid; xi < p.w; xi += WG) {
        let xv = x[base + xi];
        let d = select(0.0, dr_at(a, g, y, xi), xv * scale + shift > 0.0);
        sdy += d;
        sdyx += d * (xv - mean);
      }
    }
  }
  part[lid] = vec2<f32>(sdy, sdyx);
  workgroupBarrier();
  var tot = vec2<f32>(0.0);
  for (var l = 0u; l < WG; l++) { tot += part[l]; }
  let tdyx = tot.y * invstd;
  if (lid == 0u) {
    dbeta[g] += tot.x;
    dgamma[g] += tdyx;
  }
  let m = f32(p.n * p.s);
  let mdy = tot.x / m;
  let mdyx = tdyx / m;
  for (var a = 0u; a < p.n; a++) {
    for (var y = 0u; y < p.h; y++) {
      let base = a * p.xs + g * p.s + y * p.w;
      let ob = a * p.dxs + g * p.s + y * p.w;
      for (var xi = lid; xi < p.w; xi += WG) {
        let xv = x[base + xi];
        let d = select(0.0, dr_at(a, g, y, xi), xv * scale + shift > 0.0);
        let v = scale * (d - mdy - (xv - mean) * invstd * mdyx);
        if (ACCUM_DX == 1u) {
          dx[ob + xi] += v;
        } else {
          dx[ob + xi] = v;
        }
      }
    }
  }
}
