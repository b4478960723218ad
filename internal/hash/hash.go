// Package hash holds the small integer hash the project uses where it needs
// well-spread, deterministic bits: duplicate-line sets while reading, the
// generator's per-customer random streams, sampling evaluation customers.
package hash

// Mix64 is the splitmix64 finalizer (Steele, Lea & Flood 2014, "Fast
// splittable pseudorandom number generators"): a bijection on 64 bits whose
// outputs differ in about half their bits when one input bit changes.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}
