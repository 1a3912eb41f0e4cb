//go:build linux

package bench

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used (user and
// system, all threads): a server's CPU per request, which other processes
// loading the machine do not inflate as they do its requests per second.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
