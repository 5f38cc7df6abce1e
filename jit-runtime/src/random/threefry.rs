//! The threefry2x32 block function (20 rounds), the core of JAX's default PRNG. See `shared/spec/prng.md`.

const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];

/// `threefry2x32((k0, k1), (x0, x1))`: 20 rounds of Threefry with JAX's key schedule.
///
/// ```
/// use jit_runtime::random::threefry2x32;
/// // split(PRNGKey(0), 2)[0] = threefry(key, 0, 0)
/// assert_eq!(threefry2x32(0, 0, 0, 0), (0x6b200159, 0x99ba4efe));
/// ```
pub fn threefry2x32(k0: u32, k1: u32, x0: u32, x1: u32) -> (u32, u32) {
    let ks = [k0, k1, k0 ^ k1 ^ 0x1BD1_1BDA];
    let mut x = [x0.wrapping_add(ks[0]), x1.wrapping_add(ks[1])];
    for i in 0..5 {
        for &r in &ROTATIONS[i % 2] {
            x[0] = x[0].wrapping_add(x[1]);
            x[1] = x[1].rotate_left(r);
            x[1] ^= x[0];
        }
        x[0] = x[0].wrapping_add(ks[(i + 1) % 3]);
        x[1] = x[1].wrapping_add(ks[(i + 2) % 3]).wrapping_add(i as u32 + 1);
    }
    (x[0], x[1])
}
