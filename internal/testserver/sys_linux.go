package testserver

import (
	"os/user"
	"syscall"
)

// sysProcAttr makes the kernel kill the server when the test binary dies,
// so a crashed or killed test leaves no process behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func lookupUser(name string) (*user.User, error) { return user.Lookup(name) }
