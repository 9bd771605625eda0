// channel_slice: copies between a tensor a (N, C, S) and channels [C0, C0 + C) of a wider tensor b (N, C', S)
// (S = H*W): TO_SLICE = 1 writes b[:, C0 + c] = a[:, c] (a dense layer's new features into its block's shared
// buffer), TO_SLICE = 0 writes a[:, c] = b[:, C0 + c] (that slice's gradient back out).
// Bindings: 0 src read (a when TO_SLICE = 1, else b); 1 dst read_write (the other);
//           2 uniform { total: u32 = N*C*S, cs: u32 = C*S, bs: u32 = C'*S, off: u32 = C0*S }.
// Dispatch: 1-D over the N*C*S copied values, WG a group, folded by grid1d. A pure copy: one variant only.
override WG: u32 = 256;
override TO_SLICE: u32 = 1u;

struct Params { total: u32, cs: u32, bs: u32, off: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let n = i / p.cs;
  let j = n * p.bs + p.off + (i - n * p.cs);
  if (TO_SLICE == 1u) {
    dst[j] = src[i];
  } else {
    dst[i] = src[j];
  }
}
