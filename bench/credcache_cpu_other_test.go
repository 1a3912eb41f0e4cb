//go:build !linux

package bench

import "time"

// processCPU is not measured here: it returns 0, and the CPU-per-request
// metrics read 0.
func processCPU() time.Duration { return 0 }
