// matmul_blocked: C (m, n) = A (m, k) B (k, n) (+ bias[j] if HAS_BIAS) (+ old C if ACCUMULATE), with both
// operands pre-packed into rgba32float textures (matmul_pack: transposes are resolved there) and each
// invocation holding a TM x (4*TN4) block of C in registers (llvmpipe: register blocking pays most; shared
// memory and barriers cost more than they save). Tile sizes are const: function-scope arrays need them.
// Textures: ta texel (k4, i) = A[i, 4k4 .. 4k4+3]; tb texel (j4, l) = B[l, 4j4 .. 4j4+3]; zero padded so
// every load of a tile is in bounds: ta has >= ceil(m / TM) * TM rows, tb >= ceil(n / (4 TN4)) * TN4 texels
// a row and 4 * ceil(k / 4) rows.
// Bindings: 0 ta texture_2d<f32>; 1 tb texture_2d<f32>; 2 bias (n) read (ignored unless HAS_BIAS);
//           3 c (m, n) read_write; 4 uniform { m: u32, n: u32, k4: u32 }.
// Dispatch: (ceil(n / (4 TN4 WG_X)), ceil(m / (TM WG_Y)), 1) workgroups of (WG_X, WG_Y).
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override ACCUMULATE: u32 = 0u;
override HAS_BIAS: u32 = 0u;
const TM = 8u;
const TN4 = 2u;

struct Params { m: u32, n: u32, k4: u32 }

@group(0) @binding(0) var ta: texture_2d<f32>;
@group(0) @binding(1) var tb: texture_2d<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * TM;
  let j40 = gid.x * TN4;
  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var l4 = 0u; l4 < p.k4; l4++) {
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = textureLoad(ta, vec2<u32>(l4, i0 + i), 0); }
    for (var q = 0u; q < 4u; q++) {
      var bv: array<vec4<f32>, TN4>;
      for (var j = 0u; j < TN4; j++) { bv[j] = textureLoad(tb, vec2<u32>(j40 + j, l4 * 4u + q), 0); }
      for (var i = 0u; i < TM; i++) {
        let s = vec4<f32>(av[i][q]);
        for (var j = 0u; j < TN4; j++) { acc[i][j] = fma(s, bv[j], acc[i][j]); }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = i0 + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < TN4; j++) {
      for (var q = 0u; q < 4u; q++) {
        let col = (j40 + j) * 4u + q;
        if (col < p.n) {
          var v = acc[i][j][q];
          if (HAS_BIAS == 1u) { v += bias[col]; }
          let o = row * p.n + col;
          if (ACCUMULATE == 1u) { v += c[o]; }
          c[o] = v;
        }
      }
    }
  }
}
