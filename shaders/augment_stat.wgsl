// augment_stat: the per-sample scalar of DiffAugment's contrast op (see src/nn/augment.ts), one per sample n.
// Sample n's parameters (prm row n, P floats): tx, ty, flip, cutX0, cutY0, cutX1, cutY1, contrast k, brightness b.
//   MODE 0 (forward):  stat[n] = (1 - k) * mean_{c,h,w} x[n] + b    so that augment_fwd's y = k * x + stat[n]
//   MODE 1 (backward): stat[n] = (1 - k) / (C*H*W) * sum of dy[n, c, i, j] over the output pixels (i, j) that
//                      come from the input (inside the translated image and outside the cutout), so that
//                      augment_bwd's dx = k * g + stat[n] includes the gradient through the mean.
// Bindings: 0 src (N, C, H, W) read (x for MODE 0, dy for MODE 1); 1 prm (N, P) read; 2 stat (N) write;
//           3 uniform { n: u32, c: u32, h: u32, w: u32 }.
// Dispatch: one workgroup per sample (grid1d over N; flat group = x + y*nx); the WG invocations stride over
// the sample's C*H*W values and tree-reduce in workgroup memory. WG = 1 is the naive variant (one invocation
// sums its sample serially). WG must be a power of two.
override WG: u32 = 64;
override MODE: u32 = 0u;
override P: u32 = 9u;

struct Params { n: u32, c: u32, h: u32, w: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> prm: array<f32>;
@group(0) @binding(2) var<storage, read_write> stat: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

// Whether output pixel (i, j) of sample row r takes its value from the input (else it is background).
fn kept(r: u32, i: i32, j: i32) -> bool {
  let si = i - i32(prm[r + 1u]);
  let sj = j - i32(prm[r]);
  let inside = si >= 0 && si < i32(p.h) && sj >= 0 && sj < i32(p.w);
  let cut = j >= i32(prm[r + 3u]) && j < i32(prm[r + 5u]) && i >= i32(prm[r + 4u]) && i < i32(prm[r + 6u]);
  return inside && !cut;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  // The whole workgroup leaves together (n is uniform), so the barriers below stay in uniform control flow.
  if (n >= p.n) { return; }
  let hw = p.h * p.w;
  let chw = p.c * hw;
  let base = n * chw;
  let r = n * P;
  var acc = 0.0;
  for (var j = lid; j < chw; j += WG) {
    if (MODE == 0u) {
      acc += src[base + j];
    } else {
      let q = j % hw;
      if (kept(r, i32(q / p.w), i32(q % p.w))) { acc += src[base + j]; }
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var hh = WG / 2u; hh > 0u; hh /= 2u) {
    if (lid < hh) { part[lid] += part[lid + hh]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let k = prm[r + 7u];
    let mean = part[0] / f32(chw);
    if (MODE == 0u) {
      stat[n] = (1.0 - k) * mean + prm[r + 8u];
    } else {
      stat[n] = (1.0 - k) * mean;
    }
  }
}
