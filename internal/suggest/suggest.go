// Package suggest finds the nearest known name to a mistyped one, for the
// "did you mean" hints of config errors and plugin options.
package suggest

// Closest returns the option nearest to name by edit distance, for a
// "did you mean" hint, or "" when none is close enough (more than a third
// of the name would have to change).
func Closest(name string, options []string) string {
	best, bestDist := "", -1
	for _, o := range options {
		d := editDistance(name, o)
		if bestDist < 0 || d < bestDist {
			best, bestDist = o, d
		}
	}
	// No options, name itself (distance 0), or too far.
	if bestDist <= 0 || bestDist > max(len(name), len(best))/3+1 {
		return ""
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swapped pair of letters ("bsae_dn") counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
