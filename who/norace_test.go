//go:build !race

package who_test

// raceEnabled: the race detector changes what escapes, so allocation
// budgets are not checked under it.
const raceEnabled = false
