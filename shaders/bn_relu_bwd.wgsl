// bn_relu_bwd: backward of bn_relu_fwd in training mode (through the ReLU and the batch mean and variance).
// The ReLU's mask is recomputed from x (y = x * scale + shift as the forward computed it), so neither the
// normalised values nor the ReLU output are read. With dy = dr * [y > 0], xhat = (x - mean) * invstd and
// M = N*S per channel:
//   dbeta[c] += sum dy, dgamma[c] += sum dy * xhat                                       (accumulated)
//   dx = gamma[c] * invstd * (dy - sum dy / M - xhat * sum(dy * xhat) / M)   (ACCUM_DX = 0: =, 1: +=)
// x and dx are read/written with sample strides XS and DXS (values between samples; >= C*S): both may be the
// first C channels of a wider tensor, e.g. a dense block's shared features and their gradient, into which a
// layer adds the gradient of its input (ACCUM_DX = 1). dr is (N, C, S); with POOL = 1 (the backward of
// bn_relu_fwd's POOL) it is the gradient of the pooled output, (N, C, H/2, W/2), and the ReLU output's gradient
// is dr / 4 over each 2x2 window (0 on a dropped odd last row or column).
// Bindings: 0 x read; 1 dr read; 2 gamma (C) read; 3 beta (C) read; 4 saved (2*C) read [mean | invstd];
//           5 dx read_write; 6 dgamma (C) read_write; 7 dbeta (C) read_write;
//           8 uniform { n: u32, c: u32, s: u32, xs: u32, dxs: u32, h: u32, w: u32 } (S = h * w; without POOL
//           any split, e.g. h = 1, w = S).
// Dispatch: one invocation per channel, WG channels a workgroup, folded by grid1d (as bn_relu_fwd). The loops
// walk (sample, row, column), so no index needs an integer division (slow on CPU adapters); with POOL they walk
// the 2x2 windows (4x fewer iterations: the classifier's stem at batch 32 and 32 px stays under llvmpipe's
// loop cap, and it ran 1.4-2x faster), then the dropped odd last column and row.
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
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  if (g >= p.c) { return; }
  let mean = saved[g];
  let invstd = saved[p.c + g];
  let scale = gamma[g] * invstd;
  let shift = beta[g] - mean * scale;
  var sdy = 0.0;
  var sdyx = 0.0;
  if (POOL == 1u) {
    // window by window: one dr value serves the four pixels of its window (the dropped odd last row and
    // column have d = 0 and add nothing), a quarter of the loop iterations of the per-pixel walk
    let ho = p.h / 2u;
    let wo = p.w / 2u;
    for (var a = 0u; a < p.n; a++) {
      for (var oy = 0u; oy < ho; oy++) {
        let row = a * p.xs + g * p.s + 2u * oy * p.w;
        let drow = ((a * p.c + g) * ho + oy) * wo;
        for (var ox = 0u; ox < wo; ox++) {
          let i = row + 2u * ox;
          let v = vec4<f32>(x[i], x[i + 1u], x[i + p.w], x[i + p.w + 1u]);
          let d = select(vec4<f32>(0.0), vec4<f32>(0.25 * dr[drow + ox]), v * scale + shift > vec4<f32>(0.0));
          sdy += d.x + d.y + d.z + d.w;
          sdyx += dot(d, v - mean);
        }
      }
    }
  } else {
    for (var a = 0u; a < p.n; a++) {
      for (var y = 0u; y < p.h; y++) {
        let base = a * p.xs + g * p.s + y * p.w;
        for (var xi = 0u; xi < p.w; xi++) {
          let xv = x[base + xi];
          let d = select(0.0, dr_at(a, g, y, xi), xv * scale + shift > 0.0);
          sdy += d;
          sdyx += d * (xv - mean);
        }
      }
    }
  }
  sdyx *= invstd;
  dbeta[g] += sdy;
  dgamma[g] += sdyx;
  let m = f32(p.n * p.s);
  let mdy = sdy / m;
  let mdyx = sdyx / m;
  if (POOL == 1u) {
    let ho = p.h / 2u;
    let wo = p.w / 2u;
    for (var a = 0u; a < p.n; a++) {
      for (var oy = 0u; oy < ho; oy++) {
        let row = a * p.xs + g * p.s + 2u * oy * p.w;
        let orow = a * p.dxs + g * p.s + 2u * oy * p.w;
        let drow = ((a * p.c + g) * ho + oy) * wo;
        for (var ox = 0u; ox < wo; ox++) {
          let i = row + 2u * ox;
          let o = orow + 2u * ox;
          let v = vec4<f32>(x[i], x[i + 1u], x[i + p.w], x[i + p.w + 1u]);
          let d = select(vec4<f32>(0.0), vec4<f32>(0.25 * dr[drow + ox]), v * scale + shift > vec4<f32>(0.0));
          let r = scale * (d - mdy - (v - mean) * invstd * mdyx);
          if (ACCUM_DX == 1u) {
            dx[o] += r.x;
            dx[o + 1u] += r.y;
            dx[o + p.w] += r.z;
            dx[o + p.w + 1u] += r.w;
          } else {
            dx[o] = r.x;
            dx[o + 1u] = r.y;
            dx[o + p.w] = r.z;
            dx[o + p.w + 1u] = r.w;
          }
        }
        if (p.w > 2u * wo) { // the dropped last column (d = 0)
          let c = p.w - 1u;
          for (var k = 0u; k < 2u; k++) {
            let v = scale * (-mdy - (x[row + k * p.w + c] - mean) * invstd * mdyx);
            if (ACCUM_DX == 1u) { dx[orow + k * p.w + c] += v; } else { dx[orow + k * p.w + c] = v; }
          }
        }
      }
      if (p.h > 2u * ho) { // the dropped last row (d = 0)
        let row = a * p.xs + g * p.s + (p.h - 1u) * p.w;
        let orow = a * p.dxs + g * p.s + (p.h - 1u) * p.w;
        for (var xi = 0u; xi < p.w; xi++) {
          let v = scale * (-mdy - (x[row + xi] - mean) * invstd * mdyx);
          if (ACCUM_DX == 1u) { dx[orow + xi] += v; } else { dx[orow + xi] = v; }
        }
      }
    }
    return;
  }
  for (var a = 0u; a < p.n; a++) {
    for (var y = 0u; y < p.h; y++) {
      let base = a * p.xs + g * p.s + y * p.w;
      let ob = a * p.dxs + g * p.s + y * p.w;
      for (var xi = 0u; xi < p.w; xi++) {
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
