// matmul_blocked: C (m, n) = A (m, k) B (k, n) (+ bias[j] if HAS_BIAS) (+ old C if ACCUMULATE), with both
// operands pre-packed into rgba32float textures (matmul_pack resolves transposes there) and each invocation
// holding a 16 x 16 block of C in registers. Why this shape of code: on llvmpipe a texel fetch costs far
// more than an FMA, so the tile must be large (32 fetches feed 1024 FMAs a step of 4 along k), and NIR does
// not fully unroll loops this big, which would leave the tile dynamically indexed and spilled to per-lane
// scratch memory. So the tile is 16 named row variables updated by an inlined helper with constant indices
// (no loops over the tile), and shared memory is not used (barriers cost more than they save there).
// Textures: ta texel (k4, i) = A[i, 4k4 .. 4k4+3]; tb texel (j4, l) = B[l, 4j4 .. 4j4+3]; zero padded along
// k to a multiple of 4 (loads past m or n return some in-bounds value and only feed outputs never stored).
// Bindings: 0 ta, 1 tb texture_storage_2d<rgba32float, read>; 2 bias (n) read (ignored unless HAS_BIAS);
//           3 c (m, n) read_write; 4 uniform { m: u32, n: u32, k4: u32 }.
// PLANE > 0: rows of C are (image, pixel) pairs of an NCHW batch with PLANE pixels an image, and C[i, j] is
// stored at c[(i / PLANE) n PLANE + j PLANE + i % PLANE], i.e. c is (m / PLANE, n, PLANE) (1x1 convs).
// Dispatch: (ceil(n / (16 WG_X)), ceil(m / (16 WG_Y)), 1) workgroups of (WG_X, WG_Y); invocation (x, y)
// computes C[16y .. 16y+15, 16x .. 16x+15].
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override ACCUMULATE: u32 = 0u;
override HAS_BIAS: u32 = 0u;
override PLANE: u32 = 0u;

struct Params { m: u32, n: u32, k4: u32 }

@group(0) @binding(0) var ta: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var tb: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// 16 outputs of one row of C, 4 columns a vec4.
alias Row = array<vec4<f32>, 4>;
// 4 rows (k) x 16 columns of B: [q * 4 + j] = B[4 l4 + q, 4 (j40 + j) .. +3].
alias Tile = array<vec4<f32>, 16>;

// r[j] += sum over q of a[q] * b[q * 4 + j]: one row's update for 4 steps along k. Each output vec4 takes
// its 4 FMAs in one chain: the tile does not fit in registers, so this loads and stores each spilled
// accumulator once per step instead of once per FMA (1.14-1.25x over q-major order on llvmpipe).
fn fmaRow(r: ptr<function, Row>, a: vec4<f32>, b: ptr<function, Tile>) {
  let ax = vec4<f32>(a.x);
  let ay = vec4<f32>(a.y);
  let az = vec4<f32>(a.z);
  let aw = vec4<f32>(a.w);
  (*r)[0] = fma(aw, (*b)[12], fma(az, (*b)[8], fma(ay, (*b)[4], fma(ax, (*b)[0], (*r)[0]))));
  (*r)[1] = fma(aw, (*b)[13], fma(az, (*b)[9], fma(ay, (*b)[5], fma(ax, (*b)[1], (*r)[1]))));
  (*r)[2] = fma(aw, (*b)[14], fma(az, (*b)[10], fma(ay, (*b)[6], fma(ax, (*b)[2], (*r)[2]))));
  (*r)[3] = fma(aw, (*b)[15], fma(az, (*b)[11], fma(ay, (*b)[7], fma(ax, (*b)[3], (*r)[3]))));
}

fn put(row: u32, col: u32, value: f32) {
  if (row >= p.m || col >= p.n) { return; }
  var v = value;
  if (HAS_BIAS == 1u) { v += bias[col]; }
  var o = row * p.n + col;
  if (PLANE > 0u) {
    // max(): with PLANE = 0 this branch is dead, but Tint (Chromium) rejects a constant division by zero
    let pl = max(PLANE, 1u);
    o = (row / pl) * p.n * pl + col * pl + row % pl;
  }
  if (ACCUMULATE == 1u) { v += c[o]; }
  c[o] = v;
}

fn putRow(row: u32, col0: u32, r: ptr<function, Row>) {
  let v0 = (*r)[0];
  let v1 = (*r)[1];
  let v2 = (*r)[2];
  let v3 = (*r)[3];
  put(row, col0 + 0u, v0.x);
  put(row, col0 + 1u, v0.y);
  put(row, col0 + 2u, v0.z);
  put(row, col0 + 3u, v0.w);
  put(row, col0 + 4u, v1.x);
  put(row, col0 + 5u, v1.y);
  put(row, col0 + 6u, v1.z);
  put(row, col0 + 7u, v1.w);
  put(row, col0 + 8u, v2.x);
  put(row, col0 + 9u, v2.y);
  put(row, col0 + 10u, v2.z);
  put(row, col0 + 11u, v2.w);
  put(row, col0 + 12u, v3.x);
  put(row, col0 + 13u, v3.y);
  put(row, col0 + 14u, v3.z);
  put(row, col0 + 15u, v3.w);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * 16u;
  let j40 = gid.x * 4u;
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
  for (var l4 = 0u; l4 < p.k4; l4++) {
    var b: Tile;
    b[0] = textureLoad(tb, vec2<u32>(j40 + 0u, l4 * 4u + 0u));
    b[1] = textureLoad(tb, vec2<u32>(j40 + 1u, l4 * 4u + 0u));
    b[2] = textureLoad(tb, vec2<u32>(j40 + 2u, l4 * 4u + 0u));
    b[3] = textureLoad(tb, vec2<u32>(j40 + 3u, l4 * 4u + 0u));
    b[4] = textureLoad(tb, vec2<u32>(j40 + 0u, l4 * 4u + 1u));
    b[5] = textureLoad(tb, vec2<u32>(j40 + 1u, l4 * 4u + 1u));
    b[6] = textureLoad(tb, vec2<u32>(j40 + 2u, l4 * 4u + 1u));
    b[7] = textureLoad(tb, vec2<u32>(j40 + 3u, l4 * 4u + 1u));
    b[8] = textureLoad(tb, vec2<u32>(j40 + 0u, l4 * 4u + 2u));
    b[9] = textureLoad(tb, vec2<u32>(j40 + 1u, l4 * 4u + 2u));
    b[10] = textureLoad(tb, vec2<u32>(j40 + 2u, l4 * 4u + 2u));
    b[11] = textureLoad(tb, vec2<u32>(j40 + 3u, l4 * 4u + 2u));
    b[12] = textureLoad(tb, vec2<u32>(j40 + 0u, l4 * 4u + 3u));
    b[13] = textureLoad(tb, vec2<u32>(j40 + 1u, l4 * 4u + 3u));
    b[14] = textureLoad(tb, vec2<u32>(j40 + 2u, l4 * 4u + 3u));
    b[15] = textureLoad(tb, vec2<u32>(j40 + 3u, l4 * 4u + 3u));
    fmaRow(&r0, textureLoad(ta, vec2<u32>(l4, i0 + 0u)), &b);
    fmaRow(&r1, textureLoad(ta, vec2<u32>(l4, i0 + 1u)), &b);
    fmaRow(&r2, textureLoad(ta, vec2<u32>(l4, i0 + 2u)), &b);
    fmaRow(&r3, textureLoad(ta, vec2<u32>(l4, i0 + 3u)), &b);
    fmaRow(&r4, textureLoad(ta, vec2<u32>(l4, i0 + 4u)), &b);
    fmaRow(&r5, textureLoad(ta, vec2<u32>(l4, i0 + 5u)), &b);
    fmaRow(&r6, textureLoad(ta, vec2<u32>(l4, i0 + 6u)), &b);
    fmaRow(&r7, textureLoad(ta, vec2<u32>(l4, i0 + 7u)), &b);
    fmaRow(&r8, textureLoad(ta, vec2<u32>(l4, i0 + 8u)), &b);
    fmaRow(&r9, textureLoad(ta, vec2<u32>(l4, i0 + 9u)), &b);
    fmaRow(&r10, textureLoad(ta, vec2<u32>(l4, i0 + 10u)), &b);
    fmaRow(&r11, textureLoad(ta, vec2<u32>(l4, i0 + 11u)), &b);
    fmaRow(&r12, textureLoad(ta, vec2<u32>(l4, i0 + 12u)), &b);
    fmaRow(&r13, textureLoad(ta, vec2<u32>(l4, i0 + 13u)), &b);
    fmaRow(&r14, textureLoad(ta, vec2<u32>(l4, i0 + 14u)), &b);
    fmaRow(&r15, textureLoad(ta, vec2<u32>(l4, i0 + 15u)), &b);
  }
  putRow(i0 + 0u, j40 * 4u, &r0);
  putRow(i0 + 1u, j40 * 4u, &r1);
  putRow(i0 + 2u, j40 * 4u, &r2);
  putRow(i0 + 3u, j40 * 4u, &r3);
  putRow(i0 + 4u, j40 * 4u, &r4);
  putRow(i0 + 5u, j40 * 4u, &r5);
  putRow(i0 + 6u, j40 * 4u, &r6);
  putRow(i0 + 7u, j40 * 4u, &r7);
  putRow(i0 + 8u, j40 * 4u, &r8);
  putRow(i0 + 9u, j40 * 4u, &r9);
  putRow(i0 + 10u, j40 * 4u, &r10);
  putRow(i0 + 11u, j40 * 4u, &r11);
  putRow(i0 + 12u, j40 * 4u, &r12);
  putRow(i0 + 13u, j40 * 4u, &r13);
  putRow(i0 + 14u, j40 * 4u, &r14);
  putRow(i0 + 15u, j40 * 4u, &r15);
}
