// Row helpers shared by softmax_texel.comp and softmax_lanes.comp. Expects the texel buffer X (4 values per
// imageLoad) and the push constants pc { rows, n, row_stride, causal, block_rows, first_query, keys } declared.

// Components at or past `valid` (keys a causal row does not see) read as -3e38 and so weigh exp(...) = 0.
vec4 masked(vec4 v, uint i0, uint valid) {
  const float lo = -3.0e38;
  return vec4(i0 < valid ? v.x : lo, i0 + 1u < valid ? v.y : lo, i0 + 2u < valid ? v.z : lo,
              i0 + 3u < valid ? v.w : lo);
}

// Keys of `row` that take part: a causal row sees the queries up to its own, and never the padding keys.
uint row_valid(uint row) {
  return pc.causal != 0u ? min(pc.keys, row % pc.block_rows + pc.first_query + 1u) : pc.keys;
}

// The online max m and sum l of exp(x - m) over texels first, first + step, ... of the row at texel base4.
void row_partial(int base4, uint valid, uint first, uint step, inout float m, inout float l) {
  const uint valid4 = (valid + 3u) / 4u;
  for (uint i = first; i < valid4; i += step) {
    const vec4 v = masked(imageLoad(X, base4 + int(i)), 4u * i, valid);
    const float mn = max(m, max(max(v.x, v.y), max(v.z, v.w)));
    const vec4 e = exp(v - mn);
    l = l * exp(m - mn) + ((e.x + e.y) + (e.z + e.w));
    m = mn;
  }
}

// exp(x - mx) * inv for texel i of the row.
vec4 row_value(int base4, uint i, uint valid, float mx, float inv) {
  return exp(masked(imageLoad(X, base4 + int(i)), 4u * i, valid) - mx) * inv;
}
