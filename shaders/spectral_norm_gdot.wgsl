// spectral_norm_gdot: k = sum_ij dWsn[i, j] * Wsn[i, j], the scalar of spectral norm's backward; writes scal[1].
// Bindings: 0 dwsn (T) read; 1 wsn (T) read; 2 scal (2) read_write [sigma, k]; 3 uniform { total: u32 }.
// Dispatch: (1, 1, 1): one workgroup strides over all T weights and tree-reduces
// in workgroup memory. WG = 1 is the naive variant. WG must be a power of two.
override WG: u32 = 256;

struct Params { total: u32 }

@group(0) @binding(0) var<storage, read> dwsn: array<f32>;
@group(0) @binding(1) var<storage, read> wsn: array<f32>;
@group(0) @binding(2) var<storage, read_write> scal: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.total; i += WG) { acc += dwsn[i] * wsn[i]; }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { scal[1] = part[0]; }
}
