// augment_fwd: DiffAugment forward (see src/nn/augment.ts) for x (N, C, H, W) in [-1, 1], per sample n with
// parameters prm row n = (tx, ty, flip, cutX0, cutY0, cutX1, cutY1, k, b) and stat[n] from augment_stat MODE 0:
//   v = k * x + stat[n]            (brightness b and contrast k around the sample mean, folded into stat)
//   mirror columns when flip != 0, shift by (tx, ty) pixels, then cut out [cutY0, cutY1) x [cutX0, cutX1):
//   y[n, c, i, j] = v[n, c, i - ty, f(j - tx)] when that pixel exists and (i, j) is outside the cutout,
//                   else PAD (the background, -1), with f(u) = W - 1 - u if flip else u.
// Bindings: 0 x (N, C, H, W) read; 1 prm (N, P) read; 2 stat (N) read; 3 y (N, C, H, W) write;
//           4 uniform { n: u32, c: u32, h: u32, w: u32 }.
// Dispatch: 1-D over the N*C*H*W outputs, one each, WG invocations a group, folded into 2-D by grid1d
// (flat group = x + y*nx).
override WG: u32 = 256;
override P: u32 = 9u;
override PAD: f32 = -1.0;

struct Params { n: u32, c: u32, h: u32, w: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read> stat: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  let hw = p.h * p.w;
  if (idx >= p.n * p.c * hw) { return; }
  let j = i32(idx % p.w);
  let i = i32((idx / p.w) % p.h);
  let plane = idx / hw;
  let n = plane / p.c;
  let r = n * P;
  let si = i - i32(prm[r + 1u]);
  var sj = j - i32(prm[r]);
  let inside = si >= 0 && si < i32(p.h) && sj >= 0 && sj < i32(p.w);
  let cut = j >= i32(prm[r + 3u]) && j < i32(prm[r + 5u]) && i >= i32(prm[r + 4u]) && i < i32(prm[r + 6u]);
  if (!inside || cut) {
    y[idx] = PAD;
    return;
  }
  if (prm[r + 2u] != 0.0) { sj = i32(p.w) - 1 - sj; }
  let v = x[(plane * p.h + u32(si)) * p.w + u32(sj)];
  y[idx] = prm[r + 7u] * v + stat[n];
}
