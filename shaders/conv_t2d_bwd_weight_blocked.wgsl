// conv_t2d_bwd_weight_blocked: gradient of a transposed 2-D convolution wrt its weight, register blocked:
// each invocation computes 16 input channels x 16 output channels of one tap (ky, kx), summed over the input
// rows (n, iy) of its split z (rows z * RPS .. (z + 1) * RPS) and all ix:
// part[ci, co, ky, kx] = sum of x[n, ci, iy, ix] * dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx].
// ACCUMULATE = 1 (one split): dw += part directly; else part goes to out[z, ci, co, ky, kx] (=) and
// conv_t2d_reduce adds the splits into dw (split-K, for parallelism when Cin*Cout*K*K is small).
// A step (one input pixel) is 8 texel fetches for 256 FMAs; the tile is 16 named variables updated by an
// inlined helper with constant indices (see conv_t2d_fwd_blocked for why).
// Textures: xt = x packed by conv_t2d_pack with border 0 (texel (ix * CIN4 + ci4, n * H + iy));
//           dyt = dy packed with border B = pad (texel ((ox + B) * COUT4 + co4, n * (Ho + 2B) + oy + B)).
// Bindings: 0 xt; 1 dyt; 2 out read_write ((S, Cin, Cout, K, K), or dw (Cin, Cout, K, K) when ACCUMULATE);
//           3 uniform { n, cin4, h, w, cout4, k, stride, pad, ho, wo, border, rps, cin, cout: u32 }.
// Dispatch: (ceil(K*K * ceil(Cout / 16) / WG_X), ceil(Cin / 16), S) workgroups of (WG_X, 1, 1);
// gid.x = tap * (co tiles) + co tile.
override WG_X: u32 = 8u;
override ACCUMULATE: u32 = 1u;

struct Params {
  n: u32, cin4: u32, h: u32, w: u32, cout4: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32,
  border: u32, rps: u32, cin: u32, cout: u32,
}

@group(0) @binding(0) var xt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var dyt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> outp: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// 16 output channels of one input channel, 4 a vec4.
alias Row = array<vec4<f32>, 4>;

// r[j] += a * d[j]
fn fmaRow(r: ptr<function, Row>, a: f32, d: ptr<function, Row>) {
  let s = vec4<f32>(a);
  (*r)[0] = fma(s, (*d)[0], (*r)[0]);
  (*r)[1] = fma(s, (*d)[1], (*r)[1]);
  (*r)[2] = fma(s, (*d)[2], (*r)[2]);
  (*r)[3] = fma(s, (*d)[3], (*r)[3]);
}

fn put(o: u32, co: u32, value: f32) {
  if (co >= p.cout) { return; }
  if (ACCUMULATE == 1u) { outp[o] += value; } else { outp[o] = value; }
}

// Stores the 16 output channels of input channel ci (o0 = index of (ci, co0, tap); K*K apart).
fn putRow(ci: u32, o0: u32, co0: u32, kk: u32, r: ptr<function, Row>) {
  if (ci >= p.cin) { return; }
  let v0 = (*r)[0];
  let v1 = (*r)[1];
  let v2 = (*r)[2];
  let v3 = (*r)[3];
  put(o0 + 0u * kk, co0 + 0u, v0.x);
  put(o0 + 1u * kk, co0 + 1u, v0.y);
  put(o0 + 2u * kk, co0 + 2u, v0.z);
  put(o0 + 3u * kk, co0 + 3u, v0.w);
  put(o0 + 4u * kk, co0 + 4u, v1.x);
  put(o0 + 5u * kk, co0 + 5u, v1.y);
  put(o0 + 6u * kk, co0 + 6u, v1.z);
  put(o0 + 7u * kk, co0 + 7u, v1.w);
  put(o0 + 8u * kk, co0 + 8u, v2.x);
  put(o0 + 9u * kk, co0 + 9u, v2.y);
  put(o0 + 10u * kk, co0 + 10u, v2.z);
  put(o0 + 11u * kk, co0 + 11u, v2.w);
  put(o0 + 12u * kk, co0 + 12u, v3.x);
  put(o0 + 13u * kk, co0 + 13u, v3.y);
  put(o0 + 14u * kk, co0 + 14u, v3.z);
  put(o0 + 15u * kk, co0 + 15u, v3.w);
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let cot = (p.cout4 + 3u) / 4u;
  let kk = p.k * p.k;
  let cell = min(gid.x, kk * cot - 1u);
  let tap = cell / cot;
  let co40 = (cell % cot) * 4u;
  let ci40 = gid.y * 4u;
  let ky = tap / p.k;
  let kx = tap % p.k;
  let hb = p.ho + 2u * p.border;
  let rowBegin = gid.z * p.rps;
  let rowEnd = min(rowBegin + p.rps, p.n * p.h);
  let s = i32(p.stride);
  // texel columns, clamped in range (tiles past Cin / Cout read valid texels and store nothing)
  let xc0 = min(ci40 + 0u, p.cin4 - 1u);
  let xc1 = min(ci40 + 1u, p.cin4 - 1u);
  let xc2 = min(ci40 + 2u, p.cin4 - 1u);
  let xc3 = min(ci40 + 3u, p.cin4 - 1u);
  let dc0 = i32(min(co40 + 0u, p.cout4 - 1u));
  let dc1 = i32(min(co40 + 1u, p.cout4 - 1u));
  let dc2 = i32(min(co40 + 2u, p.cout4 - 1u));
  let dc3 = i32(min(co40 + 3u, p.cout4 - 1u));
  let c4o = i32(p.cout4);
  var r0: Row;
  var r1: Row;
  var r2: Row;
  var r3: Row;
  var r4: Row;
  var r5: Row;
  var r6: Row;
  var r7: Row;
  var r8: Row;
  var r9: Row;
  var r10: Row;
  var r11: Row;
  var r12: Row;
  var r13: Row;
  var r14: Row;
  var r15: Row;
  for (var r = rowBegin; r < rowEnd; r++) {
    let n = r / p.h;
    let iy = r % p.h;
    let dyrow = i32(n * hb + iy * p.stride + ky + p.border) - i32(p.pad);
    let dxcol = i32(kx + p.border) - i32(p.pad);
    for (var ix = 0u; ix < p.w; ix++) {
      let xb = ix * p.cin4;
      let x0 = textureLoad(xt, vec2<u32>(xb + xc0, r));
      let x1 = textureLoad(xt, vec2<u32>(xb + xc1, r));
      let x2 = textureLoad(xt, vec2<u32>(xb + xc2, r));
      let x3 = textureLoad(xt, vec2<u32>(xb + xc3, r));
      let ob = (i32(ix) * s + dxcol) * c4o;
      var d: Row;
      d[0] = textureLoad(dyt, vec2<i32>(ob + dc0, dyrow));
      d[1] = textureLoad(dyt, vec2<i32>(ob + dc1, dyrow));
      d[2] = textureLoad(dyt, vec2<i32>(ob + dc2, dyrow));
      d[3] = textureLoad(dyt, vec2<i32>(ob + dc3, dyrow));
      fmaRow(&r0, x0.x, &d);
      fmaRow(&r1, x0.y, &d);
      fmaRow(&r2, x0.z, &d);
      fmaRow(&r3, x0.w, &d);
      fmaRow(&r4, x1.x, &d);
      fmaRow(&r5, x1.y, &d);
      fmaRow(&r6, x1.z, &d);
      fmaRow(&r7, x1.w, &d);
      fmaRow(&r8, x2.x, &d);
      fmaRow(&r9, x2.y, &d);
      fmaRow(&r10, x2.z, &d);
      fmaRow(&r11, x2.w, &d);
      fmaRow(&r12, x3.x, &d);
      fmaRow(&r13, x3.y, &d);
      fmaRow(&r14, x3.z, &d);
      fmaRow(&r15, x3.w, &d);
    }
  }
  if (gid.x >= kk * cot) { return; }
  let base = select(gid.z * p.cin * p.cout * kk, 0u, ACCUMULATE == 1u);
  let co0 = co40 * 4u;
  putRow(ci40 * 4u + 0u, base + ((ci40 * 4u + 0u) * p.cout + co0) * kk + tap, co0, kk, &r0);
  putRow(ci40 * 4u + 1u, base + ((ci40 * 4u + 1u) * p.cout + co0) * kk + tap, co0, kk, &r1);
  putRow(ci40 * 4u + 2u, base + ((ci40 * 4u + 2u) * p.cout + co0) * kk + tap, co0, kk, &r2);
  putRow(ci40 * 4u + 3u, base + ((ci40 * 4u + 3u) * p.cout + co0) * kk + tap, co0, kk, &r3);
  putRow(ci40 * 4u + 4u, base + ((ci40 * 4u + 4u) * p.cout + co0) * kk + tap, co0, kk, &r4);
  putRow(ci40 * 4u + 5u, base + ((ci40 * 4u + 5u) * p.cout + co0) * kk + tap, co0, kk, &r5);
  putRow(ci40 * 4u + 6u, base + ((ci40 * 4u + 6u) * p.cout + co0) * kk + tap, co0, kk, &r6);
  putRow(ci40 * 4u + 7u, base + ((ci40 * 4u + 7u) * p.cout + co0) * kk + tap, co0, kk, &r7);
  putRow(ci40 * 4u + 8u, base + ((ci40 * 4u + 8u) * p.cout + co0) * kk + tap, co0, kk, &r8);
  putRow(ci40 * 4u + 9u, base + ((ci40 * 4u + 9u) * p.cout + co0) * kk + tap, co0, kk, &r9);
  putRow(ci40 * 4u + 10u, base + ((ci40 * 4u + 10u) * p.cout + co0) * kk + tap, co0, kk, &r10);
  putRow(ci40 * 4u + 11u, base + ((ci40 * 4u + 11u) * p.cout + co0) * kk + tap, co0, kk, &r11);
  putRow(ci40 * 4u + 12u, base + ((ci40 * 4u + 12u) * p.cout + co0) * kk + tap, co0, kk, &r12);
  putRow(ci40 * 4u + 13u, base + ((ci40 * 4u + 13u) * p.cout + co0) * kk + tap, co0, kk, &r13);
  putRow(ci40 * 4u + 14u, base + ((ci40 * 4u + 14u) * p.cout + co0) * kk + tap, co0, kk, &r14);
  putRow(ci40 * 4u + 15u, base + ((ci40 * 4u + 15u) * p.cout + co0) * kk + tap, co0, kk, &r15);
}
