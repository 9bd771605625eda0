// channel_slice: copies between a tensor a (N, C, S) and channels [C0, C0 + C) of a wider tensor b (N, C', S)
// (S = H*W): TO_SLICE = 1 writes b[:, C0 + c] = a[:, c] (a dense layer's new features into its block's shared
// buffer), TO_SLICE = 0 writes a[:, c] = b[:, C0 + c] (that slice's gradient back out).
// Bindings: 0 src read (a when TO_SLICE = 1, else b); 1 dst read_write (the other);
//           2 uniform { cs: u32 = C*S, bs: u32 = C'*S, off: u32 = C0*S }.
// Dispatch: (ceil(C*S / WG), N, 1): x over a sample's copied values, y the sample, so no index needs an integer
// division (a 1-D grid divided by C*S per value; CPU adapters divide lane by lane). S % 4 == 0 takes
// channel_slice_vec4. A pure copy: one variant only.
override WG: u32 = 256;
override TO_SLICE: u32 = 1u;

struct Params { cs: u32, bs: u32, off: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x * WG + lid;
  if (k >= p.cs) { return; }
  let i = wid.y * p.cs + k;
  let j = wid.y * p.bs + p.off + k;
  if (TO_SLICE == 1u) {
    dst[j] = src[i];
  } else {
    dst[i] = src[j];
  }
}
