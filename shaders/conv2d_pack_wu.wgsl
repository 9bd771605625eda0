// conv2d_pack_wu: packs conv weights for the gemm kernels' uniform-buffer operand: block cb of 16 output
// channels is rowsPad rows of 16 floats (4 vec4s), dst[(cb * rowsPad + r) * 16 + j] = v(r, 16 cb + j), with
// v(r, c) = w[base + (r / rd) * outer + (r % rd) * inner + c * cs] (u32 arithmetic, wrapping: inner may be
// -1 to flip taps) for r < rows and c < cols, else 0. Forward: r = (ci, kh, kw), c = co. Input gradient:
// r = (co, kh', kw') with flipped taps, c = ci. On llvmpipe a uniform load with a lane-uniform index is one
// scalar load, where texel fetches and storage loads are per-lane gathers.
// Bindings: 0 w read; 1 dst read_write; 2 uniform { rows, cols, rd, outer, inner, cs, rowsPad, base: u32 }.
// Dispatch: (ceil(cols16 / 16), ceil(rowsPad / 4), 1) workgroups of 16 x 4 (cols16 = cols rounded up to
//           16), one float an invocation.
struct Params { rows: u32, cols: u32, rd: u32, outer: u32, inner: u32, cs: u32, rowsPad: u32, base: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 4)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let r = gid.y;
  if (r >= p.rowsPad) { return; }
  var v = 0.0;
  if (r < p.rows && c < p.cols) { v = w[p.base + (r / p.rd) * p.outer + (r % p.rd) * p.inner + c * p.cs]; }
  dst[((c / 16u) * p.rowsPad + r) * 16u + c % 16u] = v;
}
