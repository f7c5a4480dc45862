// SPDX-License-Identifier: Apache-2.0
// Bulk-memory instructions cost a call into the runtime each; the rows of small feature maps are a few bytes, so
// short runs are copied and filled inline (eight bytes per step).
@inline export function copyBytes(dst: usize, src: usize, n: i32): void {
  if (n >= 32) { memory.copy(dst, src, n); return; }
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + <usize>i, load<u64>(src + <usize>i));
  for (; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
}

@inline export function fillBytes(dst: usize, byte: i32, n: i32): void {
  if (n >= 32) { memory.fill(dst, <u8>byte, n); return; }
  const pattern = <u64>(byte & 0xff) * 0x0101010101010101;
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + <usize>i, pattern);
  for (; i < n; i++) store<u8>(dst + <usize>i, <u8>byte);
}
