// upsample2_bwd: gradient of upsample2_fwd: dx[p, i, j] = sum of dy[p, 2i + a, 2j + b], a, b in {0, 1}.
// Writes dx (=).
// Bindings: 0 dy (N, C, 2H, 2W) read; 1 dx (N, C, H, W) write; 2 uniform { total = N*C*H*W, h, w, ho, wo }.
// Dispatch: 1-D over N*C*H*W, WG a group, folded into 2-D by grid1d.
override WG: u32 = 256;

struct Params { total: u32, h: u32, w: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let q = i / p.w; // plane * H + row: its 2x2 block starts at output row 2q (one division, not three)
  let j = i - q * p.w;
  let base = 2u * q * p.wo + 2u * j;
  dx[i] = dy[base] + dy[base + 1u] + dy[base + p.wo] + dy[base + p.wo + 1u];
}
