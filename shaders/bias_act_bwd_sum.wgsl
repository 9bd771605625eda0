// bias_act_bwd_sum: bias_act_bwd and the bias gradient in one pass over dx: dx = dy * act'(y) (written, =)
// with act' from the saved output y as in bias_act_bwd, and the sum of dx over images and pixels per channel.
// Reads and writes 4 pixels a load (planes of S % 4 == 0 values), since each storage-buffer load is a per-lane
// loop on llvmpipe.
// Workgroup (c, sp) walks the planes of channel c of images [sp * per, min((sp + 1) * per, N)):
// SPLIT = 0 (one split): out[c] += its sum; SPLIT = 1: out[sp * C + c] = its sum (partials for
// conv2d_bwd_weight_reduce).
// Bindings: 0 dy (N, C, S) read (as vec4s); 1 y (N, C, S) read; 2 dx (N, C, S) read_write;
//           3 out: db (C) or partials (splits, C) read_write; 4 uniform { n, c, s4, per: u32 } (s4 = S / 4).
// Dispatch: (C, splits, 1) workgroups of WG.
override WG: u32 = 64;
override ACT: u32 = 0u;
override SLOPE: f32 = 0.2;
override SPLIT: u32 = 0u;

struct Params { n: u32, c: u32, s4: u32, per: u32 }

@group(0) @binding(0) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> outp: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

fn dact(o: vec4<f32>) -> vec4<f32> {
  switch ACT {
    case 1u: { return select(vec4<f32>(0.0), vec4<f32>(1.0), o > vec4<f32>(0.0)); }
    case 2u: { return select(vec4<f32>(SLOPE), vec4<f32>(1.0), o > vec4<f32>(0.0)); }
    case 3u: { return 1.0 - o * o; }
    case 4u: { return o * (1.0 - o); }
    default: { return vec4<f32>(1.0); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let n0 = wid.y * p.per;
  let m = (min(n0 + p.per, p.n) - n0) * p.s4;
  var acc = vec4<f32>(0.0);
  for (var j = lid; j < m; j += WG) {
    let nn = n0 + j / p.s4;
    let i = (nn * p.c + c) * p.s4 + j % p.s4;
    let v = dy[i] * dact(y[i]);
    dx[i] = v;
    acc += v;
  }
  part[lid] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (SPLIT == 0u) { outp[c] += part[0]; } else { outp[wid.y * p.c + c] = part[0]; }
  }
}
