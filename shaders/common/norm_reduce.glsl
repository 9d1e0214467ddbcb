// Workgroup-wide sums through shared memory, for the norm shaders. Include after VKD_LOCAL_SIZE.
// The host launches these shaders with a power-of-two workgroup size in x (y = z = 1).
// Every invocation must call the reduction (it contains barriers); all get the total.

shared vec2 norm_red[gl_WorkGroupSize.x];

vec2 norm_reduce_sum2(vec2 v) {
  uint t = gl_LocalInvocationID.x;
  norm_red[t] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
    if (t < s) norm_red[t] += norm_red[t + s];
    barrier();
  }
  vec2 r = norm_red[0];
  barrier();  // the array may be reused by a following reduction
  return r;
}
