// augment_bwd: input gradient of augment_fwd, written (=). Translation, mirror and cutout move each input
// pixel to at most one output pixel, so with g = dy at the output pixel that input pixel (h, w) went to (0 when
// it was shifted out or cut out), and stat[n] = (1 - k) / (C*H*W) * sum of the kept dy (augment_stat MODE 1):
//   dx[n, c, h, w] = k * g + stat[n]      (the second term is the gradient through the contrast's sample mean)
// Input pixel (h, w) goes to output (h + ty, f(w) + tx), f(u) = W - 1 - u if flip else u, kept when inside the
// image and outside the cutout [cutY0, cutY1) x [cutX0, cutX1).
// Bindings: 0 dy (N, C, H, W) read; 1 prm (N, P) read; 2 stat (N) read; 3 dx (N, C, H, W) write;
//           4 uniform { n: u32, c: u32, h: u32, w: u32 }.
// Dispatch: 1-D over the N*C*H*W input gradients, one each, WG invocations a group, folded into 2-D by grid1d
// (flat group = x + y*nx).
override WG: u32 = 256;
override P: u32 = 9u;

struct Params { n: u32, c: u32, h: u32, w: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read> stat: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  let hw = p.h * p.w;
  if (idx >= p.n * p.c * hw) { return; }
  let sw = i32(idx % p.w);
  let sh = i32((idx / p.w) % p.h);
  let plane = idx / hw;
  let n = plane / p.c;
  let r = n * P;
  var u = sw;
  if (prm[r + 2u] != 0.0) { u = i32(p.w) - 1 - sw; }
  let i = sh + i32(prm[r + 1u]);
  let j = u + i32(prm[r]);
  let inside = i >= 0 && i < i32(p.h) && j >= 0 && j < i32(p.w);
  let cut = j >= i32(prm[r + 3u]) && j < i32(prm[r + 5u]) && i >= i32(prm[r + 4u]) && i < i32(prm[r + 6u]);
  var g = 0.0;
  if (inside && !cut) { g = dy[(plane * p.h + u32(i)) * p.w + u32(j)]; }
  dx[idx] = prm[r + 7u] * g + stat[n];
}
